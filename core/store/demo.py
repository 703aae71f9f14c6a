"""SQL of the bundled demo: its import batch, its bulk-inserted annotations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from core.store.annotations import INSERT_COLUMNS
from core.store.connection import Database

DEMO_SOURCE = "demo"


def demo_present(db: Database) -> bool:
    """Whether the demo's transcripts are in the database."""
    return db.con.execute(
        "SELECT 1 FROM transcripts WHERE source = ? LIMIT 1", [DEMO_SOURCE]).fetchone() is not None


def insert_demo_batch(con: Any, batch_id: str, file_name: str, n_rows: int,
                      imported_at: datetime) -> None:
    """The `import_batches` row of the demo (inside the caller's transaction)."""
    con.execute(
        "INSERT INTO import_batches (batch_id, file_name, format, source, rows_read, rows_imported, "
        "rows_duplicate, rows_rejected, rejects_path, imported_by, imported_at) "
        "VALUES (?, ?, 'jsonl', ?, ?, ?, 0, 0, NULL, 'demo', ?)",
        [batch_id, file_name, DEMO_SOURCE, n_rows, n_rows, imported_at])


def insert_annotation_rows(con: Any, params: list[list]) -> None:
    """Insert many annotations (annotation_params rows) inside the caller's transaction, as
    one Arrow table: a row-by-row executemany takes ~1.5 ms per row."""
    if not params:
        return
    names = [c.strip() for c in INSERT_COLUMNS.split(",")]
    types = {"secondary_labels": pa.list_(pa.string()), "failure_turn": pa.int32(),
             "prelabel_visible": pa.bool_(), "duration_ms": pa.int64(),
             "created_at": pa.timestamp("us")}
    columns = list(zip(*params, strict=True))
    table = pa.table({n: pa.array(col, type=types.get(n, pa.string()))
                      for n, col in zip(names, columns, strict=True)})
    con.register("_demo_annotations", table)
    try:
        con.execute(f"INSERT INTO annotations ({INSERT_COLUMNS}) "
                    f"SELECT {INSERT_COLUMNS} FROM _demo_annotations")
    finally:
        con.unregister("_demo_annotations")
