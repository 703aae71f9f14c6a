"""Reasoning failures (everything was there, the model still got it wrong) and transcripts
with no failure, written on the same questions as the failures so no phrase gives them away."""

from __future__ import annotations

from datetime import timedelta

from core.demo.scenarios_behavior import TOOLS, overdue_invoices
from core.demo.story import Story, pick, template
from core.demo.world import amount, day, doc, fmt_day, invoice_id

# --- reasoning / completeness ------------------------------------------------------------------

@template("reasoning")
def proration(rng, cu, c):
    seats, days_left = rng.randint(2, 6), rng.choice([10, 12, 15, 18, 20])
    right = round(29 * seats * days_left / 30, 2)
    wrong = round(29 * seats * pick(rng, 30 - days_left, 30) / 30, 2)
    c.user(f"If I add {seats} seats today with {days_left} days left in the month, what will I pay?")
    c.assistant(f"Seats are prorated to the day: {seats} × $29 × ({days_left}/30) = ${wrong:,.2f}.",
                fails=True)
    return Story("reasoning", [doc("help/seats.md"), doc("help/plans-pricing.md")], TOOLS, "yes",
                 "noisy_context", "medium", note=f"Correct figure is ${right:,.2f}.")


@template("reasoning")
def trial_end(rng, cu, c):
    start = day(rng)
    said = start + timedelta(days=pick(rng, 7, 21, 30))
    c.user(pick(rng, f"I activated the Pro trial on {fmt_day(start)}. When does it end?",
                f"trial started {start.isoformat()}, last day?"))
    c.assistant(f"Your 14-day trial ends on {fmt_day(said)}; after that you move to Free unless you "
                "subscribe.", fails=True)
    return Story("reasoning", [doc("help/trial.md")], TOOLS, "yes", "missing_knowledge", "medium")


@template("reasoning")
def half_answer(rng, cu, c):
    c.user(pick(rng, "Two things: how do I pause a recurring invoice, and do paused cycles still "
                "send reminders?", "How do I pause recurring invoices? Also can I delete a schedule "
                "and get it back later?"))
    c.assistant("Open the invoice → Recurring → Pause. Resume restarts on the next cycle date.",
                fails=True)
    return Story("reasoning", [doc("help/recurring-invoices.md"), doc("help/reminders.md")], TOOLS,
                 "yes", "no_failure", "low", note=pick(rng, "Second question never answered.", None))


@template("reasoning")
def overdue_total(rng, cu, c):
    data = overdue_invoices(rng, cu, rng.choice([3, 5, 7, 28]))
    total = sum(r["total"] for r in data["invoices"])
    wrong = total - data["invoices"][-1]["total"] + pick(rng, 0, 100, 1000)
    c.user(pick(rng, "How much is overdue in total right now?", "total overdue amount?"))
    c.call("list_invoices", {"account_id": cu.account_id, "status": "overdue"}, data)
    c.assistant(f"You have {data['count']} overdue invoices totalling {cu.money(wrong)}.", fails=True)
    return Story("reasoning", [], TOOLS, "yes", "missed_tool_call", "medium",
                 note=pick(rng, f"Sum is off; true total {cu.money(total)}.", None))


@template("reasoning")
def annual_vs_monthly(rng, cu, c):
    seats = rng.randint(2, 12)
    c.user(f"For {seats} seats, is annual or monthly Pro cheaper over a year?")
    c.assistant(f"Monthly works out cheaper: {seats} × $29 = ${29 * seats}/month, while annual "
                f"is {seats} × $24 × 12 = ${24 * seats * 12} upfront.", fails=True)
    return Story("reasoning", [doc("help/plans-pricing.md")], TOOLS, "yes", "noisy_context", "medium",
                 note=pick(rng, "Compares a month with a year.", None))


# --- no failure --------------------------------------------------------------------------------

def _ok(context, confusable="reasoning", note=None):
    return Story("no_failure", context, TOOLS, "yes", confusable, "low", note=note)


@template("no_failure")
def refund_ok(rng, cu, c):
    c.user(pick(rng, "Our annual plan renewed 20 days ago by mistake, can we get a refund?",
                "Refund for an annual renewal from last week?"))
    c.assistant("Yes: annual plans can be refunded pro rata within 30 days of the renewal date. "
                "Shall I ask a billing specialist to process it?")
    return _ok([doc("help/refunds.md"), doc("help/chargebacks.md")], "noisy_context")


@template("no_failure")
def invoice_status_ok(rng, cu, c):
    inv, amt = invoice_id(rng), amount(rng)
    paid = day(rng)
    c.user(pick(rng, f"Has {inv} been paid?", f"status of {inv}?"))
    c.call("get_invoice", {"invoice_id": inv}, {"invoice_id": inv, "status": "paid", "total": amt,
                                                "currency": cu.currency, "paid_on": paid.isoformat()})
    c.assistant(f"Yes, {inv} was paid in full ({cu.money(amt)}) on {fmt_day(paid)}.")
    return _ok([], "missed_tool_call")


@template("no_failure")
def resend_ok(rng, cu, c):
    inv = invoice_id(rng)
    c.user(pick(rng, f"Please resend {inv} to {cu.email}.", f"Can you email {inv} again?"))
    c.call("resend_invoice", {"invoice_id": inv, "email": cu.email},
           {"sent": True, "to": cu.email})
    c.assistant(f"Done: {inv} is on its way to {cu.email}.")
    return _ok([doc("help/reminders.md")], "escalation")


@template("no_failure")
def legal_escalated_ok(rng, cu, c):
    c.user(pick(rng, "This billing error cost us a client. Expect to hear from our lawyer.",
                "I'm taking legal action over these charges."))
    c.call("escalate_to_human", {"reason": "customer mentions legal action", "team": "legal"},
           {"queued": True, "eta_hours": 2})
    c.assistant("I'm sorry this has caused so much trouble. I've passed your case to our legal "
                "team, who will contact you within two hours.")
    return _ok([doc("help/refunds.md")], "tone_policy")


@template("no_failure")
def proration_ok(rng, cu, c):
    seats, days_left = rng.randint(2, 6), rng.choice([10, 15, 20])
    c.user(f"Adding {seats} seats with {days_left} days left this month — what's the charge?")
    c.assistant(f"Seats are prorated to the day: {seats} × $29 × {days_left}/30 = "
                f"${29 * seats * days_left / 30:,.2f}, added to your next invoice.")
    return _ok([doc("help/seats.md"), doc("help/plans-pricing.md")], "reasoning")


@template("no_failure", intl=True)
def german_ok(rng, cu, c):
    c.user("Hallo, kann ich eine wiederkehrende Rechnung pausieren, ohne den Zeitplan zu löschen?"
           if cu.locale.startswith("de") else
           "Bonjour, puis-je suspendre une facture récurrente sans supprimer le calendrier ?")
    c.assistant("Ja: Öffnen Sie die Rechnung → Recurring → Pause. Mit Resume geht es zum nächsten "
                "Zyklusdatum weiter." if cu.locale.startswith("de") else
                "Oui : ouvrez la facture → Recurring → Pause. Resume reprend à la prochaine échéance.")
    return _ok([doc("help/recurring-invoices.md")], "schema_format")


@template("no_failure")
def overdue_total_ok(rng, cu, c):
    data = overdue_invoices(rng, cu, rng.choice([2, 4, 6, 26]))
    total = sum(r["total"] for r in data["invoices"])
    c.user(pick(rng, "How much is overdue in total?", "what's outstanding right now"))
    c.call("list_invoices", {"account_id": cu.account_id, "status": "overdue"}, data)
    c.assistant(f"{data['count']} invoices are overdue, {cu.money(total)} in total.")
    return _ok([], "reasoning")

