"""The `import_batches` table: one row per import (a file, an upload, the bundled demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.store.connection import Database

BATCH_COLUMNS = (
    "batch_id, file_name, format, source, rows_read, rows_imported, rows_duplicate, "
    "rows_rejected, rejects_path, imported_by, imported_at"
)


@dataclass(frozen=True)
class Batch:
    """One recorded import."""

    batch_id: str
    file_name: str
    format: str
    source: str
    rows_read: int
    rows_imported: int
    rows_duplicate: int
    rows_rejected: int
    rejects_path: str | None
    imported_by: str | None
    imported_at: datetime


def record_batch(db: Database, batch: Batch) -> None:
    """Insert the batch row (in the import's transaction)."""
    db.con.execute(f"INSERT INTO import_batches ({BATCH_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                   [getattr(batch, c.strip()) for c in BATCH_COLUMNS.split(",")])


def list_batches(db: Database) -> list[Batch]:
    """Every import, newest first."""
    rows = db.con.execute(
        f"SELECT {BATCH_COLUMNS} FROM import_batches ORDER BY imported_at DESC").fetchall()
    return [Batch(*r) for r in rows]
