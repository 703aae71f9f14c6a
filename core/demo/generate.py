"""Generate the bundled demo: ~300 support-copilot transcripts of the imagined company
Ledgerly, and the labels of two synthetic reviewers. Seeded, so the output is byte-identical
on every run; the committed files in core/demo/ must equal what this script writes
(a test checks).

    python -m core.demo.generate [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

# Importing the scenario modules registers their templates.
from core.demo import scenarios_behavior, scenarios_other, scenarios_pipeline  # noqa: F401
from core.demo.reviewers import review
from core.demo.story import TEMPLATES, Story, Template
from core.demo.world import (
    ASSISTANT,
    PRODUCT,
    Convo,
    Customer,
    doc,
    make_customer,
    tool_definitions,
)

SEED = 20261102
DEMO_DIR = Path(__file__).resolve().parent
TRANSCRIPTS_FILE = "transcripts.jsonl"
ANNOTATIONS_FILE = "annotations.jsonl"

# Transcripts per category: pipeline failures are ~63% of failures, no_failure 15% of all.
MIX: dict[str, int] = {
    "missing_knowledge": 36, "wrong_retrieval": 46, "noisy_context": 36, "missed_tool_call": 42,
    "schema_format": 21, "tone_policy": 19, "escalation": 20, "reasoning": 35, "no_failure": 45,
}
MODELS = ("gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14")
CHANNEL_RULES = {
    "web": "Channel: web chat. Markdown is rendered; keep answers short.",
    "email": "Channel: email. Replies are sent as plain text: never use markdown, tables or "
             "headings. Greet the customer by name and sign as Ledgerly Support.",
    "slack": "Channel: Slack Connect. At most three sentences; Slack mrkdwn (*bold*) only, never "
             "HTML or tables.",
}


@dataclass(frozen=True)
class Generated:
    """One transcript record and the truth it was generated from."""

    record: dict[str, Any]
    story: Story
    failure_index: int | None


def system_prompt(channel: str, today: str) -> str:
    """The copilot's system prompt, as the production pipeline would assemble it."""
    return (
        f"You are {ASSISTANT}, the support copilot of {PRODUCT}, an invoicing and billing platform "
        f"for small businesses. Today is {today}.\n"
        "- Answer only from the help-center passages in CONTEXT and from tool results. If neither "
        "holds the answer, say so and offer to open a ticket.\n"
        "- Use the tools to look up invoices and subscriptions and to act (resend, refund); never "
        "claim an action you did not perform.\n"
        "- Never promise credits, discounts or refunds beyond policy: goodwill credits are granted "
        "by a billing specialist only. Do not give tax or legal advice. Do not reveal internal "
        "notes, risk scores or other customers' data.\n"
        "- Call escalate_to_human when the customer mentions legal action, reports fraud or an "
        "account takeover, asks to delete personal data, or when the same problem failed twice.\n"
        "- When handing a case to the billing team, end with a JSON block "
        '{"handoff": {"priority": "low|normal|urgent", "category": "...", "invoice_id": "..."}}.\n'
        "- Reply in the customer's language.\n" + CHANNEL_RULES[channel])


OPENERS = [("Hi there", "Hi! How can I help with Ledgerly today?"),
           ("hello, quick billing question", "Of course, what would you like to know?"),
           ("Good morning!", "Good morning! What can I do for you?")]
CLOSERS = [("ok thanks", "You're welcome! Anything else, just ask."),
           ("Thank you.", "Glad to help. Have a good day!"),
           ("cheers", "Happy to help!")]
FOLLOW_UPS = [("Also, can I change the invoice number prefix?",
               "Yes: Settings → Invoices → Prefix (for example INV-2026-). Numbers stay sequential.",
               "help/invoice-numbering.md"),
              ("One more thing: what's the fee if a client disputes a card payment?",
               "A dispute holds the amount and costs $15; upload evidence under Payments → Disputes "
               "within 7 days.", "help/chargebacks.md")]


def _assignments(rng: random.Random) -> list[tuple[str, Template]]:
    """(category, template) per transcript: every template used, in a shuffled order."""
    out = []
    for label, n in MIX.items():
        templates = TEMPLATES[label]
        out += [(label, templates[i % len(templates)]) for i in range(n)]
    rng.shuffle(out)
    return out


def _setting(rng: random.Random, label: str, fn: Template) -> tuple[str, str, str, Customer]:
    channel = fn.channel or rng.choices(["web", "email", "slack"], [55, 30, 15])[0]
    tier = rng.choices(["free", "pro", "enterprise"], [30, 50, 20] if channel != "slack" else [0, 40, 60])[0]
    old_model_share = 0.7 if label == "missed_tool_call" else 0.45
    model = MODELS[0] if rng.random() < old_model_share else MODELS[1]
    intl = fn.intl if fn.intl is not None else rng.random() < 0.04
    return channel, tier, model, make_customer(rng, tier, intl)


def _talk(rng: random.Random, c: Convo, fn: Template, cu: Customer) -> Story:
    """Optional small talk around the template's conversation, within 8 user/assistant turns."""
    if rng.random() < 0.3:
        c.messages += _pair(*rng.choice(OPENERS))
    story = fn(rng, cu, c)
    context = list(story.context)
    turns = sum(m["role"] in ("user", "assistant") and not m.get("tool_calls") for m in c.messages)
    if turns <= 6 and rng.random() < 0.15:
        q, a, source = rng.choice(FOLLOW_UPS)
        c.messages += _pair(q, a)
        context.append(doc(source))
        turns += 2
    if turns <= 6 and rng.random() < 0.35:
        c.messages += _pair(*rng.choice(CLOSERS))
    return replace(story, context=context)


def _pair(user: str, assistant: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]


def generate_one(i: int, label: str, fn: Template) -> Generated:
    """Transcript number i, from its own seeded generator (stable if others change)."""
    rng = random.Random(f"{SEED}-{i}")
    channel, tier, model, cu = _setting(rng, label, fn)
    created = datetime(2026, 9, 1, 7) + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
    c = Convo(rng, [{"role": "system", "content": system_prompt(channel, created.date().isoformat())}])
    story = _talk(rng, c, fn, cu)
    assert story.label == label, (fn.__name__, story.label, label)
    record: dict[str, Any] = {"id": f"ledgerly-{i:04d}", "messages": c.messages}
    if story.context:
        record["context"] = story.context
    record["tools"] = tool_definitions(story.tools)
    record["metadata"] = {"channel": channel, "customer_tier": tier, "model": model,
                          "locale": cu.locale, "account_id": cu.account_id,
                          "created_at": created.isoformat() + "Z"}
    return Generated(record, story, c.failure_index)


def generate_transcripts(seed: int = SEED) -> list[Generated]:
    """Every demo transcript, in id order."""
    rng = random.Random(seed)
    return [generate_one(i + 1, label, fn) for i, (label, fn) in enumerate(_assignments(rng))]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8", newline="\n")


def generate(out_dir: Path = DEMO_DIR, seed: int = SEED) -> tuple[Path, Path]:
    """Write transcripts.jsonl and annotations.jsonl into out_dir; returns both paths."""
    items = generate_transcripts(seed)
    annotations = review(items, random.Random(seed + 1))
    out_dir.mkdir(parents=True, exist_ok=True)
    t_path, a_path = out_dir / TRANSCRIPTS_FILE, out_dir / ANNOTATIONS_FILE
    _write_jsonl(t_path, [g.record for g in items])
    _write_jsonl(a_path, annotations)
    return t_path, a_path


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: python -m core.demo.generate [--out DIR]."""
    parser = argparse.ArgumentParser(prog="python -m core.demo.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="output folder (default: core/demo)")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
