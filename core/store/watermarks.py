"""The `pull_watermarks` table: how far each live pull has read (append-only; latest wins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.store.connection import Database, utcnow


@dataclass(frozen=True)
class Watermark:
    """The newest trace start a pull stored, for one system, scope and source."""

    system: str
    scope: str
    source: str
    newest_trace_at: datetime
    traces_stored: int | None
    batch_id: str | None
    pulled_by: str | None
    pulled_at: datetime


def latest_watermark(db: Database, system: str, scope: str, source: str) -> Watermark | None:
    """The latest watermark for this pull, or None before the first one."""
    row = db.con.execute(
        "SELECT system, scope, source, newest_trace_at, traces_stored, batch_id, pulled_by, "
        "pulled_at FROM pull_watermarks WHERE system = ? AND scope = ? AND source = ? "
        "ORDER BY pulled_at DESC LIMIT 1", [system, scope, source]).fetchone()
    return Watermark(*row) if row else None


def record_watermark(db: Database, mark: Watermark) -> None:
    """Append a watermark (its own transaction: written after the batch committed)."""
    with db.transaction():
        db.con.execute("INSERT INTO pull_watermarks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [mark.system, mark.scope, mark.source, mark.newest_trace_at,
                        mark.traces_stored, mark.batch_id, mark.pulled_by, mark.pulled_at or utcnow()])
