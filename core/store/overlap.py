"""The overlap rule, written once: which transcripts go to two reviewers.

A transcript is an overlap item when the first 8 bytes of sha1("<seed>:<transcript_id>"), read
as an unsigned integer over 2**64, fall below the `overlap_share` setting. Deterministic, and
the same in every process and every DuckDB version (sha1 never changes). The queues ask for the
overlap items of a database, Browse evaluates the expression inside its query (blindness), and
the demo generator asks for the overlap items among ids it has not stored yet.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from core.store.connection import Database


def overlap_sql(transcript_id: str = "t.transcript_id", seed: str = "$seed",
                share: str = "$share") -> str:
    """The rule as a SQL boolean expression over the given column and parameters."""
    return (f"(('0x' || substr(sha1(CAST({seed} AS VARCHAR) || ':' || {transcript_id}), 1, 16))"
            f"::UBIGINT::DOUBLE / 18446744073709551616.0 < {share})")


def overlap_ids(db: Database, seed: int, share: float) -> frozenset[str]:
    """Ids of the transcripts (archived ones included) that are overlap items."""
    rows = db.con.execute(f"SELECT t.transcript_id FROM transcripts t WHERE {overlap_sql()}",
                          {"seed": seed, "share": share}).fetchall()
    return frozenset(r[0] for r in rows)


def overlap_among(ids: Iterable[str], seed: int, share: float) -> frozenset[str]:
    """The overlap items among `ids`, which need not be stored anywhere (the demo generator
    decides its double-labeled items before it writes a database)."""
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT t.transcript_id FROM unnest($ids) t(transcript_id) "
                           f"WHERE {overlap_sql()}",
                           {"ids": list(ids), "seed": seed, "share": share}).fetchall()
    return frozenset(r[0] for r in rows)
