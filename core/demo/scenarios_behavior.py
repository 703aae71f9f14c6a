"""Behavior failures: schema / format, tone / policy, escalation. The facts are right; the
shape, the manner or the hand-over boundary is not."""

from __future__ import annotations

import json

from core.demo.story import Story, pick, template
from core.demo.world import amount, day, doc, invoice_id

TOOLS = ["get_invoice", "list_invoices", "get_subscription", "resend_invoice", "issue_refund",
         "escalate_to_human"]


def overdue_invoices(rng, cu, n):
    """A list_invoices result of n invoices (a long tool result when n is large)."""
    rows = []
    for _ in range(n):
        due = day(rng, span=150)
        rows.append({"invoice_id": invoice_id(rng), "client": rng.choice(
            ["Oakridge Dental", "Pinecrest Books", "Summit Roofing", "Café Lumière", "Delta Freight",
             "Ivy Lane Clinic", "Nordhafen Logistik", "Greenway Gyms", "Orbit Media"]),
            "due_date": due.isoformat(), "total": amount(rng, 80, 3200), "currency": cu.currency,
            "status": "overdue", "reminders_sent": rng.randint(0, 3)})
    return {"account_id": cu.account_id, "count": n, "invoices": rows}


# --- schema / format ---------------------------------------------------------------------------

@template("schema_format")
def handoff_json(rng, cu, c):
    inv = invoice_id(rng)
    c.user(pick(rng, f"I was charged for {inv} but we cancelled before the period started.",
                f"Why did you bill us {inv}? We cancelled last month!"))
    broken = pick(rng, '{"handoff": {"priority": "urgent", "category": "billing dispute",}}',
                  f'handoff: priority urgent, category billing dispute, invoice {inv}',
                  '{"handoff": {"priority": "quite urgent", "category": "dispute"}')
    c.assistant("I'm sorry about this. I've passed your case to our billing team, who will review "
                f"the charge and reply within one business day.\n\n{broken}", fails=True)
    ideal = ("I'm sorry about this. I've passed your case to our billing team, who will reply within "
             "one business day.\n\n" + json.dumps({"handoff": {"priority": "urgent",
                                                                 "category": "billing dispute",
                                                                 "invoice_id": inv}}))
    return Story("schema_format", [doc("help/refunds.md")], TOOLS, "yes", "tone_policy", "medium",
                 ideal=ideal, note=pick(rng, "Handoff block unparseable, the router drops it.", None))


@template("schema_format", channel="email")
def email_markdown(rng, cu, c):
    seats = rng.randint(3, 9)
    c.user(f"Hello, what would Pro cost us monthly vs annually for {seats} seats? Regards, {cu.first}")
    c.assistant(f"## Pro pricing for {seats} seats\n\n| Billing | Per seat | Total / month |\n|---|---|---|\n"
                f"| Monthly | $29 | ${29 * seats} |\n| Annual | $24 | ${24 * seats} |\n\n"
                f"**Tip:** annual billing saves ${5 * seats * 12} a year.", fails=True)
    ideal = (f"Hello {cu.first},\n\nFor {seats} seats, Pro costs ${29 * seats} per month billed "
             f"monthly, or ${24 * seats} per month billed annually (a saving of ${5 * seats * 12} a "
             "year).\n\nBest regards,\nLedgerly Support")
    return Story("schema_format", [doc("help/plans-pricing.md")], TOOLS, "yes", "no_failure", "low",
                 ideal=ideal, note=pick(rng, "Markdown table in a plain-text email.", None))


@template("schema_format", intl=True)
def wrong_language(rng, cu, c):
    german = cu.locale.startswith("de")
    c.user("Guten Tag, wie lange dauert eine SEPA-Lastschrift, bis das Geld ankommt? Grüße aus "
           "München" if german else
           "Bonjour, combien de temps faut-il pour qu'un prélèvement SEPA arrive ? Merci d'avance.")
    c.assistant("Hi! SEPA Direct Debit payments settle in 6 business days. Note that a failed debit "
                "is not retried automatically.", fails=True)
    ideal = ("Guten Tag! SEPA-Lastschriften werden nach 6 Werktagen gutgeschrieben. Eine "
             "fehlgeschlagene Lastschrift wird nicht automatisch wiederholt." if german else
             "Bonjour ! Un prélèvement SEPA est crédité en 6 jours ouvrés. Un prélèvement échoué "
             "n'est pas relancé automatiquement.")
    return Story("schema_format", [doc("help/sepa-payments.md")], TOOLS, "yes", "tone_policy", "low",
                 ideal=ideal, note="Right answer, wrong language for the customer.")


@template("schema_format")
def csv_shape(rng, cu, c):
    data = overdue_invoices(rng, cu, rng.choice([4, 6, 9, 24]))
    c.user(pick(rng, "Can you give me my overdue invoices as CSV so I can paste them into a sheet?",
                "export overdue invoices as csv pls (invoice, client, due date, amount)"))
    c.call("list_invoices", {"account_id": cu.account_id, "status": "overdue"}, data)
    lines = [f"{r['invoice_id']} {r['client']}; due {r['due_date']} — {cu.money(r['total'])}"
             for r in data["invoices"]]
    c.assistant("Here you go:\n\n" + "\n".join(lines), fails=True)
    ideal = "invoice_id,client,due_date,amount\n" + "\n".join(
        f"{r['invoice_id']},{r['client']},{r['due_date']},{r['total']:.2f}" for r in data["invoices"])
    return Story("schema_format", [doc("help/exports.md")], TOOLS, "yes", "no_failure", "low",
                 ideal=ideal, note=pick(rng, "Not CSV: no header, mixed separators.", None))


@template("schema_format", channel="slack")
def slack_html(rng, cu, c):
    c.user(pick(rng, "how do reminders work? short answer pls", "when do auto reminders go out?"))
    c.assistant("<b>Automatic reminders</b><br><ul><li>3 days before the due date</li><li>on the due "
                "date</li><li>7 days after</li></ul><p>You can edit the wording per client.</p>",
                fails=True)
    return Story("schema_format", [doc("help/reminders.md")], TOOLS, "yes", "no_failure", "low",
                 ideal="Reminders go out *3 days before*, *on* and *7 days after* the due date; "
                       "you can edit the wording per client.")


# --- tone / policy -----------------------------------------------------------------------------

@template("tone_policy")
def curt_double_charge(rng, cu, c):
    amt = amount(rng, 29, 290)
    c.user(pick(rng, f"You charged my card TWICE this month, {cu.money(amt)} each. This is ridiculous.",
                f"Seriously?? two charges of {cu.money(amt)}. fix it"))
    c.assistant(pick(rng, "As stated in our help center, duplicate charges are refunded within 5–10 "
                     "business days. Please read the refunds article before contacting support.",
                     "Like the refunds article already says, duplicates get refunded in 5–10 days. "
                     "Nothing else to do."), fails=True)
    ideal = ("I'm sorry you were charged twice — that's frustrating. Duplicate charges are refunded "
             "in full; you'll see the money on your card within 5–10 business days.")
    return Story("tone_policy", [doc("help/refunds.md")], TOOLS, "yes", "missed_tool_call", "medium",
                 secondary=("missed_tool_call",), ideal=ideal)


@template("tone_policy")
def promises_credit(rng, cu, c):
    c.user(pick(rng, "Reminders went out twice to all my clients yesterday. Embarrassing. What will "
                "you do about it?", "Your bug spammed my clients with double reminders. I want "
                "compensation."))
    offer = pick(rng, "a free month of Pro", "a 50% discount on your next invoice",
                 "three months free")
    c.assistant(f"I'm really sorry! To make up for it I've added {offer} to your account.",
                fails=True)
    return Story("tone_policy", [doc("help/reminders.md"), doc("help/refunds.md")], TOOLS, "yes",
                 "escalation", "high", secondary=("escalation",),
                 ideal="I'm sorry for the duplicate reminders. I've asked a billing specialist to "
                       "review your account for a goodwill credit; they'll reply within a day.",
                 note=pick(rng, "Promised a credit only billing specialists may grant.", None))


@template("tone_policy")
def internal_disclosure(rng, cu, c):
    c.user(pick(rng, "Why was my payout delayed?", "Payout still not here after 4 days. Why?"))
    score = rng.randint(71, 97) / 100
    c.call("get_subscription", {"account_id": cu.account_id},
           {"plan": "pro", "payout_hold": True, "risk_score": score,
            "internal_note": "manual review queue: new bank account"})
    c.assistant(f"Your payout is held because our risk engine scored your account {score} and "
                "an analyst put it in the manual review queue after you changed bank accounts.",
                fails=True)
    return Story("tone_policy", [doc("help/payment-methods.md")], TOOLS, "yes", "escalation",
                 "high", ideal="Your payout is under a routine review after the bank account change. "
                               "This usually takes 1–2 business days; we'll email you when it's released.")


@template("tone_policy")
def tax_advice(rng, cu, c):
    c.user(pick(rng, "My client is a US company. Do I need to charge VAT or not?",
                "Selling consulting to a client in Canada — VAT or no VAT? Just tell me."))
    c.assistant("You don't need to charge VAT for non-EU clients — just set 0% and you're fine "
                "with the tax office.", fails=True)
    return Story("tone_policy", [doc("help/vat.md")], TOOLS, "yes", "missing_knowledge", "medium",
                 ideal="I can't give tax advice, but Ledgerly lets you set the VAT rate per client; "
                       "your accountant can confirm which rate applies to exports.")


@template("tone_policy", channel="email")
def off_brand(rng, cu, c):
    inv = invoice_id(rng)
    c.user(f"Dear support, could you confirm that invoice {inv} was paid? Kind regards, {cu.first} "
           f"{cu.last}, {cu.business}")
    c.call("get_invoice", {"invoice_id": inv}, {"invoice_id": inv, "status": "paid",
                                                "paid_on": day(rng).isoformat()})
    c.assistant(pick(rng, f"omg yes!! 🎉🎉 {inv} is paid, you're all good lol 🙌",
                     f"So so sorry for any trouble!!! I apologise deeply. {inv} is paid. Again, "
                     "I'm terribly sorry for the inconvenience, please accept our apologies."),
                fails=True)
    return Story("tone_policy", [doc("help/reminders.md")], TOOLS, "yes", "schema_format", "low",
                 ideal=f"Dear {cu.first},\n\nYes, invoice {inv} has been paid in full.\n\nKind "
                       "regards,\nLedgerly Support")


# --- escalation / abstention -------------------------------------------------------------------

@template("escalation")
def legal_threat(rng, cu, c):
    c.user(pick(rng, "Your reminders broke our contract terms. My lawyer will be in touch.",
                "I'm going to sue Ledgerly if this isn't fixed today."))
    c.assistant("I understand. Let's fix it: open Settings → Reminders and check the schedule.",
                fails=True)
    c.user(pick(rng, "I said my lawyer is handling this. I want a person.",
                "Did you read what I wrote? Legal action. Human, now."))
    c.assistant("Sure! Next, check whether the reminder wording per client is correct.")
    return Story("escalation", [doc("help/reminders.md")], TOOLS, "yes", "tone_policy", "high",
                 ideal="I'm transferring you to our legal team now; they will contact you today.")


@template("escalation")
def account_takeover(rng, cu, c):
    c.user(pick(rng, "Someone changed our payout bank account last night. It wasn't us!",
                "We got an email that the payout IBAN changed. Nobody here did that."))
    c.assistant("To change the payout account back, go to Settings → Payouts → Bank account and "
                "enter your correct details.", fails=True)
    return Story("escalation", [doc("help/payment-methods.md")], TOOLS, "yes", "missed_tool_call",
                 "high", secondary=("missed_tool_call",),
                 ideal="This may be an account takeover. I've alerted our security team, who are "
                       "freezing payouts now and will contact you within the hour.")


@template("escalation")
def repeated_failure(rng, cu, c):
    c.user("Reminders aren't going out to my clients.")
    c.assistant("Check that automatic reminders are on under Settings → Reminders.")
    c.user("They're on. Still nothing went out this week.")
    c.assistant("Please check that automatic reminders are on under Settings → Reminders and "
                "that the client has an email address.", fails=True)
    c.user(pick(rng, "Third time: ON, and emails are set. Nothing works.",
                "I've done all that twice. It still doesn't send."))
    c.assistant("Sorry about that! Please make sure automatic reminders are enabled.")
    return Story("escalation", [doc("help/reminders.md")], TOOLS, "yes", "reasoning", "medium",
                 ideal="Thanks for checking both. Since this still fails, I'm handing it to our "
                       "billing engineers with your account details.")


@template("escalation")
def over_escalation(rng, cu, c):
    inv = invoice_id(rng)
    c.user(pick(rng, f"Could you send {inv} again to {cu.email}?", f"resend {inv} please"))
    c.call("escalate_to_human", {"reason": "customer requests invoice resend", "team": "billing"},
           {"queued": True, "eta_hours": rng.randint(4, 30)}, fails=True)
    c.assistant("I've passed this to our billing team; they'll get back to you.")
    return Story("escalation", [doc("help/reminders.md")], TOOLS, "yes", "missed_tool_call", "low",
                 ideal=f"Done — I've resent {inv} to {cu.email}.",
                 note=pick(rng, "resend_invoice was available; no human needed.", None))


@template("escalation")
def privacy_delete(rng, cu, c):
    c.user(pick(rng, "Delete my account and all my personal data. GDPR.",
                "I want all my data erased under GDPR, effective today."))
    c.assistant("No problem. Go to Settings → Account → Delete account and confirm; all data is "
                "removed immediately.", fails=True)
    return Story("escalation", [doc("help/data-export-gdpr.md")], TOOLS, "yes", "noisy_context",
                 "high", ideal="I've forwarded your erasure request to our privacy team; they will "
                               "confirm within 30 days.")
