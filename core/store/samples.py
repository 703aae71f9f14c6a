"""The `samples` and `sample_items` tables, and the candidate query a draw starts from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.store.connection import Database
from core.store.transcripts import field_sql


@dataclass(frozen=True)
class Sample:
    """A recorded draw: how it was made and which transcripts, in their seeded order."""

    sample_id: str
    method: str
    seed: int
    n: int
    filter: dict[str, list[str]] | None
    stratify_by: str | None
    created_by: str | None
    created_at: datetime
    transcript_ids: tuple[str, ...] = ()



def candidates(db: Database, where: dict[str, list[str]], stratify_by: str | None
               ) -> list[tuple[str, str | None]]:
    """(transcript_id, stratum value) of active transcripts matching every filter field
    (any of its values), in a fixed order so that a seed alone fixes the draw: by source and
    the record's own id, which (unlike transcript_id) do not depend on import order."""
    clauses, params = ["NOT archived"], []
    for field, values in where.items():
        clauses.append(f"{field_sql(field)} IN (SELECT unnest(?::VARCHAR[]))")
        params.append(values)
    stratum = field_sql(stratify_by) if stratify_by else "NULL"
    return db.con.execute(
        f"SELECT transcript_id, {stratum} FROM transcripts WHERE {' AND '.join(clauses)} "
        "ORDER BY source, coalesce(record_id, transcript_id)", params).fetchall()


def save_sample(db: Database, sample: Sample) -> None:
    """Store the sample and its items (position = seeded order) in one transaction."""
    import pyarrow as pa  # here: the pages import this module; only saving a sample needs Arrow

    items = pa.table({"sample_id": [sample.sample_id] * len(sample.transcript_ids),
                      "transcript_id": list(sample.transcript_ids),
                      "position": pa.array(range(len(sample.transcript_ids)), pa.int32())})
    con = db.con
    with db.transaction():
        con.execute("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            sample.sample_id, sample.method, sample.seed, sample.n,
            None if sample.filter is None else json.dumps(sample.filter), sample.stratify_by,
            sample.created_by, sample.created_at])
        con.register("_items", items)
        try:
            con.execute("INSERT INTO sample_items SELECT sample_id, transcript_id, position FROM _items")
        finally:
            con.unregister("_items")


def _row_to_sample(r: tuple, ids: tuple[str, ...] = ()) -> Sample:
    return Sample(r[0], r[1], r[2], r[3], None if r[4] is None else json.loads(r[4]), r[5],
                  r[6], r[7], ids)


def list_samples(db: Database) -> list[Sample]:
    """Every sample, newest first (without its items)."""
    rows = db.con.execute(
        "SELECT sample_id, method, seed, n, filter, stratify_by, created_by, created_at "
        "FROM samples ORDER BY created_at DESC").fetchall()
    return [_row_to_sample(r) for r in rows]


def sample_exists(db: Database, sample_id: str) -> bool:
    """Whether a sample with this id was drawn."""
    return db.con.execute("SELECT 1 FROM samples WHERE sample_id = ?", [sample_id]).fetchone() is not None


def get_sample(db: Database, sample_id: str) -> Sample | None:
    """One sample with its transcript ids in position order."""
    row = db.con.execute(
        "SELECT sample_id, method, seed, n, filter, stratify_by, created_by, created_at "
        "FROM samples WHERE sample_id = ?", [sample_id]).fetchone()
    if row is None:
        return None
    ids = [r[0] for r in db.con.execute(
        "SELECT transcript_id FROM sample_items WHERE sample_id = ? ORDER BY position",
        [sample_id]).fetchall()]
    return _row_to_sample(row, tuple(ids))


def stratum_counts(db: Database, sample_id: str, field: str) -> list[tuple[Any, int]]:
    """How many items of a sample fall in each value of a field."""
    return db.con.execute(
        f"SELECT {field_sql(field)} AS v, count(*) FROM sample_items JOIN transcripts "
        "USING (transcript_id) WHERE sample_id = ? GROUP BY v ORDER BY 2 DESC, 1",
        [sample_id]).fetchall()
