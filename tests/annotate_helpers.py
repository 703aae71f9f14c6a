"""Helpers for the annotation tests: a seeded database any test (or the e2e server) can use."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from core.store.annotations import NewAnnotation, add_annotation
from core.store.categories import register_taxonomy
from core.store.connection import Database, connect, utcnow
from core.store.prelabels import Prelabel, save_prelabels
from core.store.settings import set_setting
from core.taxonomy import Taxonomy, load_taxonomy
from tests.conftest import add_transcripts, make_record
from tests.demo_helpers import demo_database

HOSTILE_ID = "hostile"
HOSTILE_SOURCE = "hostile-fixture"
HOSTILE_TEXT = ('<script>window.__pwned=1;alert("xss")</script> '
                '<img src=x onerror="window.__pwned=2;alert(1)"> '
                '<a href="javascript:alert(3)">click me</a>')


def tool_record(i: int) -> dict:
    """A transcript with a system prompt, a tool call, a long tool result and context."""
    return {
        "id": f"t{i:03d}",
        "messages": [
            {"role": "system", "content": "You are the airline's support agent. Policy: ..."},
            {"role": "user", "content": f"Where is my booking ABC{i}? I need the gate."},
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": f"call{i}", "type": "function",
                "function": {"name": "get_booking", "arguments": f'{{"code": "ABC{i}"}}'}}]},
            {"role": "tool", "tool_call_id": f"call{i}",
             "content": '{"status": "confirmed", "gate": "B12", "log": "' + "x" * 900 + '"}'},
            {"role": "assistant", "content": f"Your booking ABC{i} is confirmed, gate B12."},
        ],
        "metadata": {"channel": "web" if i % 2 else "email", "model": "gpt-4o"},
        "context": [{"source": "kb/gates.md", "text": "Gates are shown 2 h before departure."}],
    }


def hostile_record() -> dict:
    """Content that would inject HTML or script if rendered unescaped, everywhere it can hide."""
    return {
        "id": HOSTILE_ID,
        "messages": [
            {"role": "system", "content": HOSTILE_TEXT},
            {"role": "user", "content": HOSTILE_TEXT, "name": "<b>bold</b>"},
            {"role": "assistant", "content": HOSTILE_TEXT, "tool_calls": [{
                "id": "c1", "type": "function",
                "function": {"name": "<img src=x onerror=alert(4)>",
                             "arguments": '{"q": "<script>alert(5)</script>"}'}}]},
            {"role": "tool", "content": HOSTILE_TEXT},
        ],
        "metadata": {"channel": "<script>alert(6)</script>"},
        "context": [{"source": "<img src=x onerror=alert(7)>", "text": HOSTILE_TEXT}],
    }


def big_record(n_messages: int = 500, target_bytes: int = 1_000_000) -> dict:
    """A ~1 MB, n-message transcript (long tool results) for the rendering benchmark."""
    per = target_bytes * 4 // (n_messages * 3)  # a quarter of the messages are tool calls
    msgs = [{"role": "system", "content": "You are an agent. " * 50}]
    for i in range(1, n_messages):
        if i % 4 == 2:
            msgs.append({"role": "assistant", "content": None, "tool_calls": [{
                "id": f"c{i}", "type": "function",
                "function": {"name": "search", "arguments": f'{{"q": "step {i}"}}'}}]})
        elif i % 4 == 3:
            msgs.append({"role": "tool", "tool_call_id": f"c{i - 1}", "content": "r" * per})
        else:
            role = "user" if i % 4 == 1 else "assistant"
            msgs.append({"role": role, "content": f"turn {i}: " + "w " * (per // 2)})
    return {"id": "big", "messages": msgs, "metadata": {"size": "1MB"}}


def prelabel(tid: str, label: str, confidence: float, taxonomy: Taxonomy,
             created_at: datetime | None = None) -> Prelabel:
    """An offline pre-label for a test transcript."""
    return Prelabel(transcript_id=tid, content_hash=None, labeler="offline", model="test",
                    prompt_version="p1", taxonomy_version=taxonomy.version, status="ok",
                    primary_label=label, confidence=confidence,
                    rationale=f"because {label}", evidence="quoted evidence",
                    created_at=created_at or utcnow())


def seeded_db(path: Path, n: int = 12, overlap_share: float = 0.0,
              prelabel_display: str = "shown", hostile: bool = True, demo: bool = False) -> Path:
    """A database the app can open: the bundled demo (when asked), then n tool transcripts
    (+ a hostile one), pre-labels on every other one of those, the default taxonomy."""
    if demo:
        demo_database(path)
    db = connect(path)
    taxonomy = load_taxonomy("default")
    register_taxonomy(db, taxonomy)
    records = [tool_record(i) for i in range(n)]
    add_transcripts(db, records, source="fixture")
    if hostile:
        records.append(hostile_record())
        add_transcripts(db, records[-1:], source=HOSTILE_SOURCE)
    keys = taxonomy.keys
    save_prelabels(db, [prelabel(r["id"], keys[i % len(keys)], round(0.3 + 0.05 * i, 2), taxonomy)
                        for i, r in enumerate(records) if i % 2 == 0])
    set_setting(db, "overlap_share", overlap_share, "test")
    set_setting(db, "prelabel_display", prelabel_display, "test")
    db.close()
    return path


def simple_db(db: Database, n: int) -> list[str]:
    """n small transcripts in an already open database."""
    return add_transcripts(db, [make_record(i) for i in range(n)])


def label(db: Database, taxonomy: Taxonomy, tid: str, who: str, key: str = "tone_policy",
          kind: str = "label", minutes: int = 0) -> str:
    """Save one annotation row directly through core."""
    a = NewAnnotation(transcript_id=tid, annotator=who, kind=kind,
                      primary_label=key if kind in ("label", "adjudication") else None,
                      taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version,
                      created_at=utcnow() + timedelta(milliseconds=minutes))
    return add_annotation(db, a, taxonomy.keys)


def close_open_databases() -> None:
    """Close the databases AppTest runs left open (Streamlit's resource cache, the last
    script's globals, pending snapshot timers), so DuckDB's bindings do not list them as
    leaked when the interpreter exits."""
    import gc

    import streamlit as st

    from core.store.snapshot import scheduler_for

    st.cache_resource.clear()
    for db in [o for o in gc.get_objects() if isinstance(o, Database)]:
        if (scheduler := scheduler_for(db)) is not None:
            scheduler.cancel()
        db.close()
    gc.collect()
