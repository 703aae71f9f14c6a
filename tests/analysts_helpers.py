"""A small labeled database for the analysts' tests: transcripts (some with tool calls),
two reviewers with one disagreement, pre-labels, behavior failures with ideal responses."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from core.store.annotations import NewAnnotation, add_annotation
from core.store.connection import Database
from core.store.prelabels import Prelabel, save_prelabels
from core.taxonomy import Taxonomy
from tests.conftest import add_transcripts, make_record

TOOL_CALL = {"id": "c1", "type": "function",
             "function": {"name": "lookup_order", "arguments": "{\"order\": 7}"}}

# transcript index → (alice's label, bob's label or None)
LABELS = {
    0: ("missed_tool_call", "missed_tool_call"),
    1: ("missed_tool_call", None),
    2: ("tone_policy", "tone_policy"),
    3: ("tone_policy", None),
    4: ("schema_format", "escalation"),
    5: ("wrong_retrieval", None),
    6: ("no_failure", None),
    7: ("escalation", None),
}


def tool_record(i: int) -> dict:
    """A record whose assistant called a tool, with context and tool definitions."""
    rec = make_record(i, "Where is my order?")
    rec["messages"] = [
        {"role": "system", "content": "You are a support assistant."},
        {"role": "user", "content": f"Where is order 7? (#{i})"},
        {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
        {"role": "tool", "tool_call_id": "c1", "content": "{\"status\": \"shipped\"}"},
        {"role": "assistant", "content": "It is lost, sorry."},
    ]
    rec["context"] = [{"source": "kb/orders.md", "text": "Orders ship in 2 days."}]
    rec["tools"] = [{"type": "function", "function": {"name": "lookup_order", "parameters": {}}}]
    return rec


def records(n: int = 10) -> list[dict]:
    """Transcripts t0…t(n-1); t0 and t1 have tool calls."""
    return [tool_record(i) if i < 2 else make_record(i) for i in range(n)]


def _label(db: Database, taxonomy: Taxonomy, i: int, who: str, label: str) -> None:
    behavior = taxonomy.fix_class(label) == "behavior"
    add_annotation(db, NewAnnotation(
        transcript_id=f"t{i}", annotator=who, primary_label=label,
        secondary_labels=("noisy_context",) if i == 5 else (),
        context_present="yes", severity="medium",
        failure_turn=2 if behavior and i == 2 else None,
        ideal_response=f"Ideal answer for t{i}." if behavior and who == "alice" else None,
        taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version), taxonomy.keys)


def fill(db: Database, taxonomy: Taxonomy, n: int = 10) -> None:
    """Transcripts, labels by alice and bob, and an LLM pre-label for every labeled one."""
    add_transcripts(db, records(n))
    for i, (a, b) in LABELS.items():
        _label(db, taxonomy, i, "alice", a)
        if b:
            _label(db, taxonomy, i, "bob", b)
    save_prelabels(db, [Prelabel(
        transcript_id=f"t{i}", content_hash=None, labeler="llm", model="m", prompt_version="p1",
        taxonomy_version=taxonomy.version, status="ok",
        primary_label="wrong_retrieval" if i == 1 else a, confidence=0.8)
        for i, (a, _) in LABELS.items()])


def duckdb_cli() -> str | None:
    """The DuckDB 1.5 CLI from PyPI's duckdb-cli, installed beside this Python."""
    candidate = Path(sys.executable).parent / "duckdb"
    return str(candidate) if candidate.exists() else shutil.which("duckdb")
