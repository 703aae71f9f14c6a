"""Helpers for the workspace tests: batches, labels, disagreements, pre-labels, and AppTest runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.store.annotations import NewAnnotation, add_annotation
from core.store.batches import Batch, record_batch
from core.store.connection import Database, utcnow
from core.store.prelabels import Prelabel, save_prelabels
from core.taxonomy import Taxonomy
from tests.conftest import add_transcripts, make_record

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 1, 9)


def add_batch(db: Database, batch_id: str, records: list[dict], source: str = "support") -> None:
    """An import batch row and its transcripts, as an import would leave them."""
    with db.transaction():
        record_batch(db, Batch(batch_id, f"{batch_id}.jsonl", "jsonl", source, len(records),
                               len(records), 0, 0, None, "importer", utcnow()))
        add_transcripts(db, records, source, batch_id)


def label(db: Database, taxonomy: Taxonomy, tid: str, who: str, key: str, minutes: int = 0,
          kind: str = "label", **extra) -> str:
    """Store one human label (or adjudication) at a fixed time."""
    a = NewAnnotation(transcript_id=tid, annotator=who, kind=kind, primary_label=key,
                      taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version,
                      created_at=T0 + timedelta(minutes=minutes), **extra)
    return add_annotation(db, a, taxonomy.keys)


def prelabel(db: Database, taxonomy: Taxonomy, tid: str, key: str, confidence: float) -> None:
    """One successful offline pre-label."""
    save_prelabels(db, [Prelabel(
        transcript_id=tid, content_hash="h", labeler="offline", model="tfidf-logreg",
        prompt_version="p1", taxonomy_version=taxonomy.version, status="ok",
        primary_label=key, confidence=confidence)])


def seed_disagreements(db: Database, taxonomy: Taxonomy) -> None:
    """Batch b1 with t0..t5: t0 and t1 in disagreement (ann vs bob), t2 agreed, t3 single."""
    add_batch(db, "b1", [make_record(i, metadata={"channel": "web", "tier": "gold"})
                         for i in range(6)])
    label(db, taxonomy, "t0", "ann", "wrong_retrieval", note="retriever got the FAQ",
          context_present="no", severity="high", secondary_labels=("noisy_context",))
    label(db, taxonomy, "t0", "bob", "missing_knowledge", 1, note="not in the KB",
          context_present="unknown", severity="medium")
    label(db, taxonomy, "t1", "ann", "tone_policy", 2)
    label(db, taxonomy, "t1", "bob", "escalation", 3)
    label(db, taxonomy, "t2", "ann", "schema_format", 4)
    label(db, taxonomy, "t2", "bob", "schema_format", 5)
    label(db, taxonomy, "t3", "ann", "reasoning", 6)


def app(page: str, db_path: Path, user: str, monkeypatch) -> AppTest:
    """An AppTest of one page on the test database, signed in as `user`."""
    monkeypatch.setenv("TRIAGE_DB", str(db_path))
    monkeypatch.setenv("TRIAGE_LOG", str(db_path.parent / "triage.log"))
    monkeypatch.delenv("TRIAGE_USER", raising=False)
    at = AppTest.from_file(str(ROOT / page), default_timeout=30)
    at.session_state["triage_user"] = user
    return at


def texts(at: AppTest) -> str:
    """Everything the page shows as text (markdown, captions, alerts, titles), one string."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "info",
                                  "warning", "error", "success")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)
