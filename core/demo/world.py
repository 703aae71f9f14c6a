"""The imagined company behind the demo: Ledgerly, an invoicing and billing SaaS for small
businesses, whose support copilot "Ledgerly Assist" answers customers on web chat, email and
Slack. Help-center articles (retrieved context), tool definitions, customers and the
conversation builder the scenario templates use."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

PRODUCT = "Ledgerly"
ASSISTANT = "Ledgerly Assist"

# Help-center articles: what retrieval can bring back. Facts here are the demo's ground truth.
KB: dict[str, str] = {
    "help/refunds.md": (
        "Refunds. Annual plans can be refunded pro rata within 30 days of the renewal date; after "
        "30 days the plan runs to the end of the term. Monthly plans are not refunded, except for "
        "duplicate charges, which are refunded in full within 5–10 business days to the original "
        "payment method. Goodwill credits are granted by a billing specialist only."),
    "release-notes/2024-03.md": (
        "Release notes, March 2024. Refund window for annual plans shortened to 14 days after "
        "renewal. New: bulk PDF download of invoices. Fixed: reminders sent twice in some time zones."),
    "help/plans-pricing.md": (
        "Plans and pricing. Free: 1 user, 5 invoices per month. Pro: $29 per seat per month "
        "(billed monthly) or $24 per seat per month billed annually; unlimited invoices, recurring "
        "invoices, automatic reminders. Enterprise: custom pricing, SSO (SAML), audit log, a named "
        "account manager. Seats can be added at any time and are prorated to the day."),
    "legacy/classic-pricing.md": (
        "Ledgerly Classic (retired 2023) pricing. Starter $12/month for 3 users; Business $49/month "
        "for 10 users. Classic plans are no longer sold; existing Classic accounts keep their price."),
    "help/late-fees.md": (
        "Late fees. You can add a late fee per client: a flat amount or a percentage of the unpaid "
        "balance, applied once or every 30 days. Since the September 2026 release, percentage fees "
        "are capped at 1.5% per month. Late fees appear as a separate line on the next reminder."),
    "help/late-fees-2025.md": (
        "Late fees (2025 edition). Percentage late fees of up to 5% per month are supported and "
        "are applied every 14 days until the invoice is paid."),
    "help/recurring-invoices.md": (
        "Recurring invoices. Open the invoice → Recurring → Pause to skip future cycles without "
        "losing the schedule; Resume restarts on the next cycle date. Deleting a schedule cannot "
        "be undone."),
    "help/recurring-expenses.md": (
        "Recurring expenses. Track repeating costs (rent, software) under Expenses → Recurring. "
        "To stop one, open it and choose Delete; past expense entries are kept."),
    "help/payment-methods.md": (
        "Accepting payments. Clients can pay invoices by card (Visa, Mastercard, Amex), ACH "
        "bank transfer (US accounts) or SEPA Direct Debit (EU accounts). Payouts reach your bank "
        "in 2 business days for cards."),
    "help/ach-payments.md": (
        "ACH payments (US). ACH debits settle in 3–5 business days. Your client needs a US routing "
        "number and account number; failed ACH debits are retried once after 3 days."),
    "help/sepa-payments.md": (
        "SEPA Direct Debit (EU). SEPA debits settle in 6 business days. Your client signs a mandate "
        "online with their IBAN; a failed debit is not retried automatically."),
    "help/two-factor.md": (
        "Two-factor authentication on mobile. Lost your phone? On the Ledgerly mobile app choose "
        "Sign in → Trouble with 2FA → Use a recovery code. Without recovery codes, an account owner "
        "must reset 2FA for you under Team → Members."),
    "help/sso-desktop.md": (
        "Single sign-on (Enterprise). Admins configure SAML under Settings → Security → SSO on the "
        "desktop web app. With SSO enabled, 2FA is managed by your identity provider."),
    "help/vat.md": (
        "VAT. Ledgerly applies the VAT rate you set per client. For EU B2B clients with a valid VAT "
        "ID, enable reverse charge and the invoice shows 0% VAT with the required note. Standard "
        "rates: Germany 19%, Austria 20%, France 20%, Netherlands 21%, Ireland 23%."),
    "help/exports.md": (
        "Exports. Reports → Export produces a CSV of invoices (up to 50,000 rows per file since "
        "the 2026 release) or a QuickBooks / Xero file. Exports are emailed to the requesting user."),
    "help/exports-old.md": (
        "Exports (older article). CSV exports are limited to 10,000 rows; split larger exports by "
        "date range."),
    "help/reminders.md": (
        "Payment reminders. Automatic reminders go out 3 days before, on, and 7 days after the due "
        "date. You can edit the wording per client. Reminders stop when the invoice is paid."),
    "help/seats.md": (
        "Seats. Owners add or remove seats under Billing → Seats. Added seats are charged pro rata "
        "for the rest of the billing period; removed seats are credited on the next invoice."),
    "help/trial.md": (
        "Free trial. Pro has a 14-day free trial starting the day you activate it. No card is "
        "needed; at the end of the trial the account moves to Free unless you subscribe."),
    "help/chargebacks.md": (
        "Chargebacks. When a client disputes a card payment, the amount is held and a $15 dispute "
        "fee applies. Upload evidence under Payments → Disputes within 7 days."),
    "help/invoice-numbering.md": (
        "Invoice numbering. Numbers are sequential per business and cannot be reused. You can set a "
        "prefix (e.g. INV-2026-) under Settings → Invoices."),
    "help/data-export-gdpr.md": (
        "Privacy requests. Requests to delete or export personal data are handled by the privacy "
        "team within 30 days; support staff must not delete accounts themselves."),
}

TOOLS: dict[str, dict[str, Any]] = {
    "get_invoice": {"description": "Look up one invoice: status, amounts, payments, refunds.",
                    "properties": {"invoice_id": {"type": "string"}}, "required": ["invoice_id"]},
    "list_invoices": {"description": "List a customer's invoices, optionally by status.",
                      "properties": {"account_id": {"type": "string"},
                                     "status": {"type": "string",
                                                "enum": ["open", "overdue", "paid", "all"]}},
                      "required": ["account_id"]},
    "get_subscription": {"description": "The account's plan, seats, renewal date and billing cycle.",
                         "properties": {"account_id": {"type": "string"}},
                         "required": ["account_id"]},
    "issue_refund": {"description": "Refund all or part of a paid invoice (policy permitting).",
                     "properties": {"invoice_id": {"type": "string"},
                                    "amount": {"type": "number"},
                                    "reason": {"type": "string"}},
                     "required": ["invoice_id", "amount", "reason"]},
    "resend_invoice": {"description": "Email an invoice again, optionally to a new address.",
                       "properties": {"invoice_id": {"type": "string"}, "email": {"type": "string"}},
                       "required": ["invoice_id"]},
    "escalate_to_human": {"description": "Hand the conversation to a human specialist.",
                          "properties": {"reason": {"type": "string"},
                                         "team": {"type": "string",
                                                  "enum": ["billing", "security", "legal", "privacy",
                                                           "account_management"]}},
                          "required": ["reason", "team"]},
}


def tool_definitions(names: list[str]) -> list[dict[str, Any]]:
    """OpenAI-style function definitions for the named tools."""
    out = []
    for n in names:
        spec = TOOLS[n]
        params = {"type": "object", "properties": spec["properties"], "required": spec["required"]}
        out.append({"type": "function",
                    "function": {"name": n, "description": spec["description"], "parameters": params}})
    return out


def doc(source: str) -> dict[str, str]:
    """A retrieved context document."""
    return {"source": source, "text": KB[source]}


FIRST = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Mateo", "Priya", "Kenji", "Fatima", "Lucas",
         "Sofia", "Daniel", "Grace", "Omar", "Hannah", "Ethan", "Chloe", "Ravi", "Mia", "Jonas"]
LAST = ["Carter", "Nguyen", "Patel", "Okafor", "Schmidt", "Rossi", "Kowalski", "Haddad", "Brennan",
        "Lindqvist", "Moreau", "Tanaka", "Alvarez", "Fischer", "Murphy", "Silva"]
BUSINESS = ["Brightside Bakery", "Kestrel Design Studio", "Harbor & Pine Plumbing", "Northwind Tutors",
            "Bluebird Photography", "Copperleaf Consulting", "Atlas Mobile Repair", "Juniper Dental",
            "Quartz Data Labs", "Maple Street Yoga", "Foxglove Florists", "Riverbend Landscaping"]
# A few customers write from non-English locales, with names to match.
INTL = [("de-DE", "Jürgen", "Weiß", "Weiß & Söhne Tischlerei", "EUR"),
        ("fr-FR", "Zoë", "Lefèvre", "Atelier Lefèvre", "EUR"),
        ("de-AT", "Grete", "Müller", "Müller Café Wien", "EUR"),
        ("pl-PL", "Łukasz", "Wójcik", "Wójcik Studio", "EUR")]
LOCALES = [("en-US", "USD"), ("en-US", "USD"), ("en-US", "USD"), ("en-GB", "GBP"), ("en-IE", "EUR")]
SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£"}


@dataclass
class Customer:
    """Who is writing in, and the account they write about."""

    first: str
    last: str
    business: str
    email: str
    account_id: str
    locale: str
    currency: str
    tier: str
    intl: bool = False

    def money(self, amount: float) -> str:
        return f"{SYMBOL[self.currency]}{amount:,.2f}"


def make_customer(rng: random.Random, tier: str, intl: bool = False) -> Customer:
    """A seeded customer; `intl` picks one of the non-English locales."""
    if intl:
        locale, first, last, business, currency = rng.choice(INTL)
    else:
        locale, currency = rng.choice(LOCALES)
        first, last, business = rng.choice(FIRST), rng.choice(LAST), rng.choice(BUSINESS)
    slug = "".join(ch for ch in business.lower() if ch.isascii() and ch.isalnum())[:14]
    email = f"{first.lower()}@{slug or 'mail'}.example"
    email = email.encode("ascii", "ignore").decode()
    return Customer(first, last, business, email, f"acct_{rng.randint(100000, 999999)}", locale,
                    currency, tier, intl)


def invoice_id(rng: random.Random) -> str:
    return f"INV-2026-{rng.randint(1000, 9899)}"


def amount(rng: random.Random, lo: int = 40, hi: int = 2400) -> float:
    return round(rng.uniform(lo, hi), 2)


def day(rng: random.Random, start: date = date(2026, 6, 1), span: int = 120) -> date:
    return start + timedelta(days=rng.randint(0, span))


def fmt_day(d: date) -> str:
    return f"{d.day} {d.strftime('%B %Y')}"


@dataclass
class Convo:
    """Builds an OpenAI-format message list; remembers where the assistant first went wrong."""

    rng: random.Random
    messages: list[dict[str, Any]] = field(default_factory=list)
    failure_index: int | None = None

    def user(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    def assistant(self, text: str, fails: bool = False) -> None:
        self._mark(fails)
        self.messages.append({"role": "assistant", "content": text})

    def call(self, name: str, args: dict[str, Any], result: Any, fails: bool = False,
             text: str | None = None) -> None:
        """An assistant tool call followed by the tool's result."""
        self._mark(fails)
        call_id = "call_" + "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                    for _ in range(20))
        fn = {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}
        self.messages.append({"role": "assistant", "content": text,
                              "tool_calls": [{"id": call_id, "type": "function", "function": fn}]})
        self.messages.append({"role": "tool", "tool_call_id": call_id, "name": name,
                              "content": json.dumps(result, ensure_ascii=False)})

    def _mark(self, fails: bool) -> None:
        if fails and self.failure_index is None:
            self.failure_index = len(self.messages)
