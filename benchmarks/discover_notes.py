"""Synthetic reviewer notes for the discovery benchmark: 16 failure modes, each written in
several ways with varying slots and filler, so the words overlap across modes as real notes do."""

from __future__ import annotations

import random

_SLOTS = {
    "doc": ["pricing page", "refund policy", "release notes", "help article", "FAQ entry",
            "warranty terms", "shipping table", "API reference"],
    "year": ["2021", "2022", "2023", "2024"],
    "tool": ["get_order", "lookup_invoice", "search_kb", "get_subscription", "cancel_booking",
             "update_address", "check_stock"],
    "field": ["order_id", "date", "email", "amount", "customer_id", "sku"],
    "lang": ["French", "German", "Spanish", "Italian", "Dutch"],
    "thing": ["credit", "discount", "refund", "free upgrade", "fee waiver"],
    "num": ["3", "12", "47", "250", "1,200"],
}
_FILLER = ["", "", " Customer had to ask again.", " Seen twice today.", " The user noticed.",
           " Not the first time.", " Minor but annoying.", " This cost us a ticket."]
MODES: dict[str, list[str]] = {
    "outdated_doc": ["Retrieved the {year} {doc} instead of the current one.",
                     "Answer quotes an outdated {doc} from {year}.",
                     "Old {year} version of the {doc} came back from search."],
    "missing_doc": ["Nothing about this in the knowledge base; the {doc} does not exist.",
                    "No {doc} covers this case, the answer was guessed.",
                    "The knowledge base lacks a {doc} for this product."],
    "wrong_doc": ["Retrieved the {doc} of another product.",
                  "Search returned an unrelated {doc}; the right one was never found.",
                  "Wrong {doc} retrieved for the question."],
    "missed_tool": ["Should have called {tool} but answered from memory.",
                    "Never called {tool}; guessed the status instead.",
                    "{tool} was available and not used."],
    "bad_args": ["Called {tool} with the wrong {field}.",
                 "{tool} got a malformed {field} and failed.",
                 "Passed the {field} from an earlier turn to {tool}."],
    "ignored_result": ["{tool} returned the answer but the reply contradicts it.",
                       "Ignored what {tool} returned and said the opposite.",
                       "Tool result from {tool} not used in the reply."],
    "json_broken": ["Output JSON is invalid, missing {field}.",
                    "Returned prose instead of the JSON with {field}.",
                    "Schema broken: {field} absent from the JSON."],
    "wrong_language": ["Replied in English to a {lang} customer.",
                       "Answer in the wrong language; the user wrote {lang}.",
                       "Should have answered in {lang}."],
    "rude": ["Curt and rude reply to a frustrated customer.",
             "Tone was dismissive, told the user to read the FAQ.",
             "Impolite wording, sounded annoyed."],
    "promise": ["Promised a {thing} that only a supervisor may grant.",
                "Offered a {thing} against policy.",
                "Granted a {thing} it is not allowed to give."],
    "no_escalation": ["Should have handed over to a human; kept answering.",
                      "Did not escalate a legal threat to an agent.",
                      "Never offered a human agent although asked twice."],
    "over_escalation": ["Escalated a trivial question to a human for no reason.",
                        "Handed over to an agent when the answer was in the docs.",
                        "Unnecessary escalation, the bot could answer."],
    "math": ["Sum is wrong; the total should be {num}.",
             "Arithmetic error in the total ({num}).",
             "Miscalculated the amount, off by {num}."],
    "incomplete": ["Second question never answered.",
                   "Answered only part of the request; {num} items skipped.",
                   "Left out the second half of the question."],
    "hallucination": ["Invented an order number {num} that does not exist.",
                      "Made up a {doc} that is not in any source.",
                      "Hallucinated a policy; no source says this."],
    "loop": ["Repeated the same question {num} times in a loop.",
             "Stuck in a loop asking for the {field} again and again.",
             "Kept repeating itself, never moved on."],
}


def synthetic_notes(n: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """(id, text, mode) for n notes; the modes have unequal sizes, as real failure modes do."""
    rng = random.Random(seed)
    modes = list(MODES)
    weights = [1.0 / (i + 2) for i in range(len(modes))]
    out = []
    for i in range(n):
        mode = rng.choices(modes, weights)[0]
        template = rng.choice(MODES[mode])
        text = template.format(**{k: rng.choice(v) for k, v in _SLOTS.items()})
        out.append((f"n{i:05d}", text + rng.choice(_FILLER), mode))
    return out
