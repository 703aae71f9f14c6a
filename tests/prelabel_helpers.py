"""Synthetic labeled transcripts with clear-but-noisy signals, for the offline labeler's tests
and benchmark; and bulk label insertion."""

from __future__ import annotations

import json
import random

from core.store.annotations import NewAnnotation, add_annotations
from core.store.connection import Database
from core.taxonomy import Taxonomy

FILLER = ["account", "order", "plan", "invoice", "refund", "delivery", "password", "profile", "settings", "billing", "support", "team", "product", "version", "upgrade", "shipping", "address", "payment", "device", "app", "login"]
TOOLS = [{"type": "function", "function": {"name": "get_order", "parameters": {}}}]


def _conv(user: str, answer: str, system: str = "You are a support assistant.", **extra) -> dict:
    rec = {"messages": [{"role": "system", "content": system}, {"role": "user", "content": user},
                        {"role": "assistant", "content": answer}], "metadata": {"reward": 0}}
    rec.update(extra)
    return rec


def _case(label: str, rng: random.Random) -> dict:
    w = " ".join(rng.sample(FILLER, 4))
    if label == "missed_tool_call":
        return _conv(f"Where is my order 4411? {w}", f"It probably ships soon. {w}", tools=TOOLS)
    if label == "schema_format":
        return _conv(f"Summarise {w}", '{"summary": "' + w + '", "items": [',
                     system="Reply in JSON with keys summary and items.")
    if label == "escalation":
        return _conv(f"Change my seat {w}", f"I am transferring you to a human agent now. {w}")
    if label == "wrong_retrieval":
        return _conv(f"Pro plan price? {w}", "The Basic plan costs 5 dollars monthly.",
                     context=[{"source": "kb", "text": f"Enterprise onboarding checklist {w}"}])
    if label == "missing_knowledge":
        return _conv(f"What is the 2026 refund window? {w}", f"I don't know, maybe 30 days. {w}")
    if label == "noisy_context":
        docs = [{"source": f"kb{j}", "text": f"warranty term {j} years {w}"} for j in range(8)]
        return _conv(f"Warranty term? {w}", f"The warranty term is 3 years {w}", context=docs)
    if label == "tone_policy":
        return _conv(f"Refund please {w}", f"Obviously that is your own fault, read the manual. {w}")
    if label == "reasoning":
        return _conv(f"Total of 3 items at 4 dollars? {w}", f"That totals 15 dollars. {w}")
    return _conv(f"How do I reset my password? {w}", f"Go to Settings, Security, Reset. {w}")


def synthetic_records(taxonomy: Taxonomy, n: int, noise: float = 0.15, seed: int = 0,
                      prefix: str = "syn") -> list[tuple[dict, str]]:
    """n (record, label) pairs spread over the taxonomy; `noise` of the labels are random."""
    rng = random.Random(seed)
    keys = list(taxonomy.keys)
    out = []
    for i in range(n):
        true = keys[i % len(keys)]
        rec = _case(true, rng)
        rec["id"] = f"{prefix}{i}"
        label = rng.choice(keys) if rng.random() < noise else true
        out.append((rec, label))
    return out


def add_labels(db: Database, taxonomy: Taxonomy, labels: list[tuple[str, str]],
               annotator: str = "ann", prelabel_visible: bool | None = False) -> None:
    """Insert one label per (transcript_id, label) in one transaction."""
    add_annotations(db, [NewAnnotation(
        transcript_id=tid, annotator=annotator, primary_label=lab, prelabel_visible=prelabel_visible,
        taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version) for tid, lab in labels],
        taxonomy.keys)


def record_json(rec: dict) -> str:
    return json.dumps(rec)
