"""The queries behind the analysts' exports: whole tables as Arrow, transcripts as their stored
JSON texts (streamed), and the rows the evaluation set and the tuning seed are built from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from core.store.connection import Database
from core.store.visibility import Viewer, hiding, row_filter

# What `triage export --what` names → the table or view it writes, in a stable order.
TABLE_QUERIES = {
    "transcripts": ("transcripts", "transcript_id"),
    "annotations": ("annotations", "created_at, annotation_id"),
    "final-labels": ("final_labels", "transcript_id"),
    "prelabels": ("prelabels", "created_at, prelabel_id"),
}
# The rule's filter on the labels of the eval set and the tuning seed (alias f: final_labels).
_VISIBLE_LABELS = f"AND {row_filter('final_labels', column='f.transcript_id')}"
_RECORD_SQL = ("SELECT transcript_id, messages, metadata, context, tools FROM transcripts "
               "ORDER BY transcript_id")
_BATCH = 2000

_EVAL_SQL = """
SELECT t.transcript_id, t.messages, t.metadata, t.context, t.tools,
       f.primary_label, f.fix_class, f.status
FROM final_labels f JOIN transcripts t USING (transcript_id)
WHERE f.primary_label IS NOT NULL AND NOT t.archived {visible}
ORDER BY t.transcript_id
"""

# Per behavior failure, the newest live annotation that agrees with the final label and
# carries an ideal response.
_SEED_SQL = """
SELECT t.transcript_id, t.messages, t.tools, c.ideal_response, c.failure_turn
FROM final_labels f
JOIN current_labels c ON c.transcript_id = f.transcript_id AND c.primary_label = f.primary_label
JOIN transcripts t ON t.transcript_id = f.transcript_id
WHERE f.fix_class = 'behavior' AND trim(coalesce(c.ideal_response, '')) <> '' {visible}
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


def _as_seen(viewer: Viewer | None, sql: str, visible: str) -> tuple[str, dict]:
    """`sql` with `{visible}` filled: as `viewer` may read it (the visibility rule), or
    everything when there is no viewer."""
    if viewer is None:
        return sql.format(visible=""), {}
    return hiding(viewer, sql.format(visible=visible))


def read_table(db: Database, what: str, viewer: Viewer | None = None) -> pa.Table:
    """One of TABLE_QUERIES' tables or views, whole, as an Arrow table; with `viewer`, less
    the rows the visibility rule hides from them."""
    table, order = TABLE_QUERIES[what]
    where = row_filter(table)
    sql, args = _as_seen(viewer, f"SELECT * FROM {table} {{visible}} ORDER BY {order}",
                         f"WHERE {where}" if where else "")
    return db.con.sql(sql, params=args or None).to_arrow_table()


def records_for_export(db: Database) -> Iterator[StoredRecord]:
    """Every transcript, by id, fetched in batches (memory stays flat however many)."""
    cur = db.con.execute(_RECORD_SQL)
    while rows := cur.fetchmany(_BATCH):
        for row in rows:
            yield StoredRecord(*row)


def labeled_records(db: Database, viewer: Viewer | None = None) -> list[LabeledRecord]:
    """Active transcripts whose final label is settled (no open disagreement), by id; with
    `viewer`, those whose labels the visibility rule lets them read."""
    return [LabeledRecord(StoredRecord(*r[:5]), *r[5:])
            for r in db.con.execute(*_as_seen(viewer, _EVAL_SQL, _VISIBLE_LABELS)).fetchall()]


def tuning_sources(db: Database, viewer: Viewer | None = None) -> list[TuningSource]:
    """Behavior failures whose agreeing live label carries an ideal response, by id; with
    `viewer`, those whose labels the visibility rule lets them read."""
    return [TuningSource(*r) for r in
            db.con.execute(*_as_seen(viewer, _SEED_SQL, _VISIBLE_LABELS)).fetchall()]
