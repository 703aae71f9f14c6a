"""SQL of the admin actions: import batches with their counts, archiving, the admin log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import NotFound
from core.store.connection import Database, utcnow


@dataclass(frozen=True)
class BatchSummary:
    """One import batch with its import counts and how many of its transcripts are archived."""

    batch_id: str
    file_name: str | None
    format: str | None
    source: str | None
    rows_imported: int
    rows_duplicate: int
    rows_rejected: int
    imported_by: str | None
    imported_at: datetime | None
    n_transcripts: int
    n_archived: int
    n_labeled: int

    @property
    def archived(self) -> bool:
        """A batch counts as archived when all of its transcripts are."""
        return self.n_transcripts > 0 and self.n_archived == self.n_transcripts


@dataclass(frozen=True)
class AdminAction:
    """One row of the admin log."""

    action: str
    target: str
    detail: dict[str, Any]
    done_by: str
    done_at: datetime


_BATCHES = """
SELECT b.batch_id, b.file_name, b.format, b.source, coalesce(b.rows_imported, 0),
       coalesce(b.rows_duplicate, 0), coalesce(b.rows_rejected, 0), b.imported_by, b.imported_at,
       count(t.transcript_id), count(t.transcript_id) FILTER (WHERE t.archived),
       count(f.transcript_id)
FROM import_batches b
LEFT JOIN transcripts t ON t.batch_id = b.batch_id
LEFT JOIN final_labels f ON f.transcript_id = t.transcript_id
GROUP BY ALL
ORDER BY b.imported_at DESC NULLS LAST, b.batch_id
"""


def list_batches(db: Database) -> list[BatchSummary]:
    """Every import batch, newest first, with transcript, archived and labeled counts."""
    return [BatchSummary(*r) for r in db.con.execute(_BATCHES).fetchall()]


def set_batch_archived(db: Database, batch_id: str, archived: bool, done_by: str) -> int:
    """Archive (or restore) every transcript of a batch and log who did it, in one
    transaction. Returns how many transcripts changed state."""
    if not db.con.execute("SELECT 1 FROM import_batches WHERE batch_id = ?", [batch_id]).fetchone():
        raise NotFound(f"no import batch with id {batch_id!r}")
    con = db.con
    with db.transaction():
        changed = con.execute(
            "SELECT count(*) FROM transcripts WHERE batch_id = ? AND archived IS DISTINCT FROM ?",
            [batch_id, archived]).fetchone()[0]
        con.execute("UPDATE transcripts SET archived = ? WHERE batch_id = ? "
                    "AND archived IS DISTINCT FROM ?", [archived, batch_id, archived])
        con.execute("INSERT INTO admin_log VALUES (?, ?, ?, ?, ?)",
                    ["archive" if archived else "restore", batch_id,
                     json.dumps({"transcripts": changed}), done_by, utcnow()])
    return changed


def log_admin_action(db: Database, action: str, target: str, detail: dict[str, Any],
                     done_by: str) -> None:
    """Append one row to the admin log (for actions that have no table of their own)."""
    db.con.execute("INSERT INTO admin_log VALUES (?, ?, ?, ?, ?)",
                   [action, target, json.dumps(detail), done_by, utcnow()])


def admin_log(db: Database, limit: int = 200) -> list[AdminAction]:
    """The latest admin actions, newest first."""
    rows = db.con.execute(
        "SELECT action, target, detail, done_by, done_at FROM admin_log "
        "ORDER BY done_at DESC LIMIT ?", [limit]).fetchall()
    return [AdminAction(a, t, json.loads(d) if d else {}, by, at) for a, t, d, by, at in rows]
