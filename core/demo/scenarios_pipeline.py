"""Pipeline failures: missing knowledge, wrong retrieval, noisy context, missed tool calls.
Each template writes one conversation; wording, entities and amounts vary with the seed."""

from __future__ import annotations

from core.demo.story import Story, pick, template
from core.demo.world import KB, amount, day, doc, fmt_day, invoice_id

BASE_TOOLS = ["get_invoice", "get_subscription", "resend_invoice", "escalate_to_human"]


# --- missing knowledge: the fact is nowhere the model could see --------------------------------

@template("missing_knowledge")
def paypal(rng, cu, c):
    c.user(pick(rng, "Can my clients pay invoices with PayPal?",
                f"A client of {cu.business} wants to pay by PayPal. Is that possible?",
                "do you support paypal for invoice payments"))
    c.assistant(pick(rng, "Yes! Go to Settings → Payments → PayPal, connect your PayPal business "
                     "account and the PayPal button appears on every invoice.",
                     "PayPal is supported. Connect it under Settings → Payments and your clients "
                     "will see a 'Pay with PayPal' option."), fails=True)
    return Story("missing_knowledge", [doc("help/payment-methods.md"), doc("help/ach-payments.md")],
                 BASE_TOOLS, "no", "wrong_retrieval", "high",
                 note=pick(rng, "No PayPal article exists; the answer invents a settings path.",
                           "KB has no PayPal page at all. Invented feature.", None))


@template("missing_knowledge")
def rate_limit(rng, cu, c):
    c.user(pick(rng, "What's the API rate limit on Enterprise? We're syncing about 40k invoices.",
                "Our dev team asks: how many API requests per minute does the Enterprise plan allow?"))
    n = pick(rng, "10,000", "6,000", "1,200")
    c.assistant(f"Enterprise accounts can make up to {n} API requests per minute; bursts above that "
                "return HTTP 429, so add a retry with backoff.", fails=True)
    return Story("missing_knowledge", [doc("help/plans-pricing.md")], BASE_TOOLS, "no",
                 "reasoning", "medium", note=pick(rng, "Rate limits aren't documented anywhere.", None))


@template("missing_knowledge")
def data_residency(rng, cu, c):
    c.user(pick(rng, f"Where is our data stored? {cu.business} needs EU hosting for a client audit.",
                "Is Ledgerly data hosted in the EU? Our DPO is asking.",
                "Wo werden unsere Daten gespeichert? Brauchen EU-Hosting." if cu.intl else
                "Quick compliance question - which region hosts our invoices?"))
    c.assistant(pick(rng, "All Ledgerly data is stored in Frankfurt (eu-central-1) with backups in "
                     "Dublin, so you're fully covered for EU residency.",
                     "Your data is hosted in the EU (Frankfurt) by default."), fails=True)
    return Story("missing_knowledge", [doc("help/data-export-gdpr.md"), doc("help/exports.md")],
                 BASE_TOOLS, "no", "wrong_retrieval", "high", secondary=("escalation",))


@template("missing_knowledge")
def nonprofit(rng, cu, c):
    c.user(pick(rng, "We're a registered charity. Do you have a nonprofit discount?",
                "Is there a discount for nonprofits on Pro?"))
    pct = pick(rng, "50%", "30%", "25%")
    c.assistant(f"Yes — registered nonprofits get {pct} off Pro. Send your registration document "
                "to billing and we'll apply it from the next invoice.", fails=True)
    c.user(pick(rng, "Great, does that apply to annual billing too?", "Thanks! Retroactively too?"))
    c.assistant("It applies to both monthly and annual billing, but not retroactively.")
    return Story("missing_knowledge", [doc("help/plans-pricing.md"), doc("help/seats.md")],
                 BASE_TOOLS, "no", "tone_policy", "high",
                 note=pick(rng, "No nonprofit pricing in KB; invented discount = a promise we can't keep.",
                           None))


@template("missing_knowledge")
def datev(rng, cu, c):
    tool = pick(rng, "DATEV", "Sage 50", "FreeAgent")
    c.user(pick(rng, f"How do I export invoices to {tool}?",
                f"Our accountant uses {tool}. Is there an integration?"))
    c.assistant(f"Use Reports → Export → {tool}. Pick the date range and Ledgerly creates a "
                f"{tool}-ready file you can import directly.", fails=True)
    return Story("missing_knowledge", [doc("help/exports.md"), doc("help/exports-old.md")],
                 BASE_TOOLS, "no", "noisy_context", "medium",
                 note=pick(rng, f"Only QuickBooks/Xero documented; {tool} export invented.", None))


@template("missing_knowledge")
def fee_cap_country(rng, cu, c):
    country = pick(rng, "Spain", "Italy", "Quebec")
    c.user(f"Is there a legal maximum late fee for clients in {country}? I want to charge 10% a month.")
    c.assistant(f"In {country} late fees are capped at 8% per year, so 10% a month isn't allowed; "
                "set it to 0.66% per month instead.", fails=True)
    return Story("missing_knowledge", [doc("help/late-fees.md")], BASE_TOOLS, "no", "tone_policy",
                 "medium", secondary=("tone_policy",),
                 note="KB only has our product cap, nothing country-specific; also legal advice.")


# --- wrong retrieval: the right article exists but was not retrieved --------------------------

@template("wrong_retrieval")
def classic_pricing(rng, cu, c):
    seats = rng.randint(3, 12)
    c.user(pick(rng, f"How much would Pro cost for {seats} people?",
                f"We're {seats} on the team, what's the monthly price for Pro?"))
    c.assistant(pick(rng, "For a team your size the Business plan is $49/month for up to 10 users.",
                     f"Pricing is $49/month covering up to 10 users, so {seats} people fit in one "
                     "Business plan."), fails=True)
    return Story("wrong_retrieval", [doc("legacy/classic-pricing.md"), doc("help/trial.md")],
                 BASE_TOOLS, "no", "noisy_context", "high",
                 note=pick(rng, "Retrieved the retired Classic pricing page.", None))


@template("wrong_retrieval")
def twofa_mobile(rng, cu, c):
    c.user(pick(rng, "I got a new phone and can't get past 2FA in the mobile app.",
                "Lost my phone, 2FA code doesn't work on the app anymore, help"))
    c.assistant("Two-factor is managed by your identity provider when SSO is on. Ask your admin to "
                "check Settings → Security → SSO on the desktop web app.", fails=True)
    c.user(pick(rng, "We don't have SSO, it's just me.", "What SSO? I'm on Pro."))
    c.assistant("Then please contact your administrator to review the SSO configuration.")
    return Story("wrong_retrieval", [doc("help/sso-desktop.md"), doc("help/seats.md")],
                 BASE_TOOLS, "no", "reasoning", "high",
                 ideal="Use a recovery code: Sign in → Trouble with 2FA → Use a recovery code.")


@template("wrong_retrieval")
def refund_old_note(rng, cu, c):
    renew = day(rng)
    c.user(pick(rng, f"Our annual plan renewed on {fmt_day(renew)} and we want to cancel. Refund?",
                f"Can we still get money back? Annual renewal was {fmt_day(renew)}, 20 days ago."))
    c.assistant(pick(rng, "Annual plans can only be refunded within 14 days of renewal, so "
                     "unfortunately that window has passed.",
                     "The refund window is 14 days after renewal; you're past it, sorry."),
                fails=True)
    return Story("wrong_retrieval", [doc("release-notes/2024-03.md"), doc("help/chargebacks.md")],
                 BASE_TOOLS, "no", "noisy_context", "high",
                 note=pick(rng, "Outdated 2024 release note retrieved instead of help/refunds.md.",
                           None))


@template("wrong_retrieval")
def pause_recurring(rng, cu, c):
    c.user(pick(rng, "How do I pause a recurring invoice for a client who's away for two months?",
                "Need to stop a monthly invoice temporarily, not delete it."))
    c.assistant("Open Expenses → Recurring, select the entry and choose Delete. Past entries are "
                "kept, so you can recreate it later.", fails=True)
    return Story("wrong_retrieval", [doc("help/recurring-expenses.md"), doc("help/reminders.md")],
                 BASE_TOOLS, "no", "noisy_context", "high",
                 note=pick(rng, "Matched 'recurring' but retrieved the expenses article.", None))


@template("wrong_retrieval")
def sepa_vs_ach(rng, cu, c):
    c.user(pick(rng, "How long does a SEPA debit take to land?",
                "My client in Lyon paid by SEPA direct debit, when will I see the money?"))
    c.assistant("Bank debits settle in 3–5 business days, and a failed debit is retried once "
                "after 3 days.", fails=True)
    return Story("wrong_retrieval", [doc("help/ach-payments.md"), doc("help/payment-methods.md")],
                 BASE_TOOLS, "no", "noisy_context", "medium")


# --- noisy context: the right passage was there, among conflicting ones ------------------------

def _padding(rng, keep):
    extra = [s for s in ("help/reminders.md", "help/invoice-numbering.md", "help/chargebacks.md",
                         "help/seats.md", "help/trial.md", "help/payment-methods.md") if s not in keep]
    rng.shuffle(extra)
    return [doc(s) for s in extra[: rng.randint(2, 5)]]


def _mix(rng, right, wrong):
    docs = _padding(rng, {right, wrong}) + [doc(right), doc(wrong)]
    rng.shuffle(docs)
    return docs


@template("noisy_context")
def refund_conflict(rng, cu, c):
    c.user(pick(rng, "We renewed annually 3 weeks ago by mistake, can we get a refund?",
                "Annual renewal went through 20 days ago, we meant to downgrade. Refund possible?"))
    c.assistant("Annual plans are refundable within 14 days of renewal, so this one can't be "
                "refunded, but you can downgrade at the end of the term.", fails=True)
    return Story("noisy_context", _mix(rng, "help/refunds.md", "release-notes/2024-03.md"),
                 BASE_TOOLS, "yes", "wrong_retrieval", "high")


@template("noisy_context")
def late_fee_blend(rng, cu, c):
    pct = pick(rng, 3, 4, 5)
    c.user(f"Can I set a {pct}% monthly late fee for slow payers?")
    c.assistant(f"Yes, percentage fees up to 5% are supported; {pct}% would be applied every 14 "
                "days, capped at 1.5% on the next reminder.", fails=True)
    return Story("noisy_context", _mix(rng, "help/late-fees.md", "help/late-fees-2025.md"),
                 BASE_TOOLS, "yes", "reasoning", "medium",
                 note=pick(rng, "Blends the 2025 and 2026 late-fee articles.", None))


@template("noisy_context")
def sso_on_pro(rng, cu, c):
    c.user(pick(rng, "We're on Pro. Can we turn on SAML single sign-on?",
                "Does our Pro plan include SSO with Okta?"))
    c.assistant("Yes, admins can configure SAML under Settings → Security → SSO on the desktop web "
                "app.", fails=True)
    return Story("noisy_context", _mix(rng, "help/plans-pricing.md", "help/sso-desktop.md"),
                 BASE_TOOLS, "yes", "reasoning", "medium")


@template("noisy_context")
def vat_country(rng, cu, c):
    c.user(pick(rng, "Which VAT rate should I set for my B2C clients in Austria?",
                "Client is a private person in Vienna. What VAT do I put on the invoice?"))
    c.assistant("For Austria, use the standard rate of 19%. Reverse charge doesn't apply to "
                "private customers.", fails=True)
    return Story("noisy_context", _mix(rng, "help/vat.md", "help/late-fees.md"), BASE_TOOLS, "yes",
                 "reasoning", "medium", secondary=("reasoning",))


@template("noisy_context")
def export_limit(rng, cu, c):
    rows = rng.randint(12, 45) * 1000
    c.user(f"I need a CSV of all invoices since 2019, about {rows:,} rows. One file?")
    c.assistant(f"CSV exports are limited to 10,000 rows, so split the {rows:,} rows into "
                f"{rows // 10000 + 1} exports by date range.", fails=True)
    return Story("noisy_context", _mix(rng, "help/exports.md", "help/exports-old.md"), BASE_TOOLS,
                 "yes", "wrong_retrieval", "low")


# --- missed tool call: the live system would have answered -------------------------------------

@template("missed_tool_call")
def refund_status_guess(rng, cu, c):
    inv = invoice_id(rng)
    c.user(pick(rng, f"Where is the refund for {inv}? It's been a week.",
                f"I was told {inv} was refunded but I don't see the money"))
    c.assistant("Refunds usually take 5–10 business days to reach your bank, so it should arrive "
                "soon.", fails=True)
    return Story("missed_tool_call", [doc("help/refunds.md")], BASE_TOOLS + ["issue_refund"], "no",
                 "no_failure", "medium",
                 note=pick(rng, "get_invoice would show whether a refund was issued at all.", None))


@template("missed_tool_call")
def claims_resend(rng, cu, c):
    inv = invoice_id(rng)
    new = f"accounts@{cu.email.split('@')[1]}"
    c.user(pick(rng, f"Please resend {inv} to {new}, the old address bounces.",
                f"can you send invoice {inv} again but to {new}?"))
    c.assistant(f"Done! I've resent {inv} to {new}. It should arrive within a few minutes.",
                fails=True)
    c.user(pick(rng, "Nothing arrived, checked spam too.", "Still nothing after an hour."))
    c.assistant("Emails can take a while. Please check again later.")
    return Story("missed_tool_call", [doc("help/reminders.md")], BASE_TOOLS, "no", "escalation",
                 "high", note="Claims an action without calling resend_invoice.")


@template("missed_tool_call")
def refund_wrong_id(rng, cu, c):
    first, second = invoice_id(rng), invoice_id(rng)
    amt = amount(rng, 30, 400)
    c.user(f"Can you check {first}? I think it's paid.")
    c.call("get_invoice", {"invoice_id": first},
           {"invoice_id": first, "status": "paid", "total": amt, "currency": cu.currency})
    c.assistant(f"{first} is paid in full ({cu.money(amt)}).")
    c.user(f"Thanks. And {second} was charged twice, please refund the duplicate.")
    c.call("issue_refund", {"invoice_id": first, "amount": amt, "reason": "duplicate charge"},
           {"refund_id": f"re_{rng.randint(10000, 99999)}", "status": "succeeded"}, fails=True)
    c.assistant(f"I've refunded the duplicate charge of {cu.money(amt)}.")
    return Story("missed_tool_call", [doc("help/refunds.md")], BASE_TOOLS + ["issue_refund"], "yes",
                 "reasoning", "high", note="Refunded the invoice from turn 1, not the one asked about.")


@template("missed_tool_call")
def ignores_subscription(rng, cu, c):
    renew = day(rng, span=60)
    seats = rng.randint(2, 15)
    c.user(pick(rng, "When does our subscription renew and how many seats are we paying for?",
                "how many seats do we have and when's the next renewal?"))
    c.call("get_subscription", {"account_id": cu.account_id},
           {"plan": "pro", "cycle": "annual", "seats": seats, "renews_on": renew.isoformat()})
    c.assistant(f"You're on Pro with {seats + pick(rng, 1, 2, -1)} seats, renewing on the 1st of "
                "next month.", fails=True)
    return Story("missed_tool_call", [doc("help/seats.md")], BASE_TOOLS, "yes", "reasoning", "medium",
                 note=pick(rng, "Tool result ignored: seats and date both differ.", None))


@template("missed_tool_call")
def plan_generic(rng, cu, c):
    c.user(pick(rng, f"Which plan is {cu.business} on right now?",
                "What plan am I on? And is the trial over?"))
    c.assistant("Ledgerly has three plans: Free, Pro and Enterprise. Pro starts with a 14-day "
                "trial; you can see your plan under Billing.", fails=True)
    return Story("missed_tool_call", [doc("help/plans-pricing.md"), doc("help/trial.md")],
                 BASE_TOOLS, "no", "escalation", "low",
                 ideal=None, note=pick(rng, "Should have called get_subscription.", None))


def kb_sources() -> list[str]:
    """Every help-center article (used by tests to check context sources are real)."""
    return sorted(KB)
