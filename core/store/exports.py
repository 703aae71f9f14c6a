"""The queries behind the analysts' exports: whole tables as Arrow, transcripts as their stored
JSON texts (streamed), and the rows the evaluation set and the tuning seed are built from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from core.store.connection import Database

# What `triage export --what` names → the rows it writes, in a stable order.
TABLE_QUERIES = {
    "transcripts": "SELECT * FROM transcripts ORDER BY transcript_id",
    "annotations": "SELECT * FROM annotations ORDER BY created_at, annotation_id",
    "final-labels": "SELECT * FROM final_labels ORDER BY transcript_id",
    "prelabels": "SELECT * FROM prelabels ORDER BY created_at, prelabel_id",
}
_RECORD_SQL = ("SELECT transcript_id, messages, metadata, context, tools FROM transcripts "
               "ORDER BY transcript_id")
_BATCH = 2000

_EVAL_SQL = """
SELECT t.transcript_id, t.messages, t.metadata, t.context, t.tools,
       f.primary_label, f.fix_class, f.status
FROM final_labels f JOIN transcripts t USING (transcript_id)
WHERE f.primary_label IS NOT NULL AND NOT t.archived
ORDER BY t.transcript_id
"""

# Per behavior failure, the newest live annotation that agrees with the final label and
# carries an ideal response.
_SEED_SQL = """
SELECT t.transcript_id, t.messages, t.tools, c.ideal_response, c.failure_turn
FROM final_labels f
JOIN current_labels c ON c.transcript_id = f.transcript_id AND c.primary_label = f.primary_label
JOIN transcripts t ON t.transcript_id = f.transcript_id
WHERE f.fix_class = 'behavior' AND trim(coalesce(c.ideal_response, '')) <> ''
QUALIFY row_number() OVER (PARTITION BY f.transcript_id
                           ORDER BY c.created_at DESC, c.annotation_id DESC) = 1
ORDER BY t.transcript_id
"""


@dataclass(frozen=True)
class StoredRecord:
    """One transcript's record fields as stored: JSON texts (context and tools may be NULL)."""

    transcript_id: str
    messages: str
    metadata: str | None
    context: str | None
    tools: str | None


@dataclass(frozen=True)
class LabeledRecord:
    """An active transcript with a final label, for the evaluation set."""

    record: StoredRecord
    label: str
    fix_class: str | None
    status: str


@dataclass(frozen=True)
class TuningSource:
    """A behavior failure with the ideal response a reviewer wrote for it."""

    transcript_id: str
    messages: str
    tools: str | None
    ideal_response: str
    failure_turn: int | None


def read_table(db: Database, what: str) -> pa.Table:
    """One of TABLE_QUERIES' tables or views, whole, as an Arrow table."""
    return db.con.sql(TABLE_QUERIES[what]).to_arrow_table()


def records_for_export(db: Database) -> Iterator[StoredRecord]:
    """Every transcript, by id, fetched in batches (memory stays flat however many)."""
    cur = db.con.execute(_RECORD_SQL)
    while rows := cur.fetchmany(_BATCH):
        for row in rows:
            yield StoredRecord(*row)


def labeled_records(db: Database) -> list[LabeledRecord]:
    """Active transcripts whose final label is settled (no open disagreement), by id."""
    return [LabeledRecord(StoredRecord(*r[:5]), *r[5:])
            for r in db.con.execute(_EVAL_SQL).fetchall()]


def tuning_sources(db: Database) -> list[TuningSource]:
    """Behavior failures whose agreeing live label carries an ideal response, by id."""
    return [TuningSource(*r) for r in db.con.execute(_SEED_SQL).fetchall()]
