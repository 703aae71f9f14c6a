"""SQL behind the annotation queues: candidate orders, who labeled what, skips, today's count.

Candidate orders are computed once per queue and cached by core/labels/queues.py; the per-save queries
here touch only the (small) annotations table, so "save + next" does not grow with transcripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.store.connection import Database

# A stable, seeded shuffle: md5 of id and seed (DuckDB's md5 never changes between versions).
_SEEDED = "md5(t.transcript_id || ':' || CAST(? AS VARCHAR))"

# The newest successful pre-label per transcript.
_LATEST_PRELABEL = """
    SELECT transcript_id,
           arg_max(confidence, created_at) AS confidence,
           arg_max(primary_label, created_at) AS primary_label
    FROM prelabels WHERE status = 'ok' GROUP BY transcript_id
"""


def latest_sample_id(db: Database) -> str | None:
    """The most recently drawn sample, if any."""
    row = db.con.execute(
        "SELECT sample_id FROM samples ORDER BY created_at DESC, sample_id DESC LIMIT 1").fetchone()
    return None if row is None else row[0]


def list_samples(db: Database) -> list[tuple[str, str | None, int | None]]:
    """(sample_id, method, n) of every sample, newest first."""
    return db.con.execute(
        "SELECT sample_id, method, n FROM samples ORDER BY created_at DESC, sample_id DESC"
    ).fetchall()


def sample_order(db: Database, sample_id: str) -> list[str]:
    """The active transcripts of a sample, in the sample's seeded order."""
    rows = db.con.execute(
        "SELECT s.transcript_id FROM sample_items s JOIN transcripts t USING (transcript_id) "
        "WHERE s.sample_id = ? AND NOT t.archived ORDER BY s.position, s.transcript_id",
        [sample_id]).fetchall()
    return [r[0] for r in rows]


def seeded_order(db: Database, seed: int) -> list[str]:
    """Every active transcript in a stable order derived from `seed`."""
    rows = db.con.execute(
        f"SELECT transcript_id FROM transcripts t WHERE NOT archived ORDER BY {_SEEDED}, 1",
        [seed]).fetchall()
    return [r[0] for r in rows]


def confidence_order(db: Database) -> list[str]:
    """Active transcripts by latest pre-label confidence, lowest first; un-prelabeled last."""
    rows = db.con.execute(
        f"SELECT t.transcript_id FROM transcripts t LEFT JOIN ({_LATEST_PRELABEL}) p "
        "USING (transcript_id) WHERE NOT t.archived "
        "ORDER BY p.confidence ASC NULLS LAST, t.transcript_id").fetchall()
    return [r[0] for r in rows]


def json_path(field: str) -> str:
    """A JSON path selecting one top-level metadata field, quoted so any name is literal."""
    return '$."' + field.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filtered_order(db: Database, seed: int, field: str | None, value: str | None,
                   source: str | None, prelabel_label: str | None) -> list[str]:
    """Active transcripts matching every given filter, in the seeded order."""
    where, params = ["NOT t.archived"], []
    if field:
        where.append("json_extract_string(t.metadata, ?) = ?")
        params += [json_path(field), value or ""]
    if source:
        where.append("t.source = ?")
        params.append(source)
    if prelabel_label:
        where.append("p.primary_label = ?")
        params.append(prelabel_label)
    rows = db.con.execute(
        f"SELECT t.transcript_id FROM transcripts t LEFT JOIN ({_LATEST_PRELABEL}) p "
        f"USING (transcript_id) WHERE {' AND '.join(where)} ORDER BY {_SEEDED}, 1",
        [*params, seed]).fetchall()
    return [r[0] for r in rows]


def transcripts_version(db: Database) -> tuple:
    """Changes whenever transcripts are imported or archived (invalidates cached orders);
    its last element is the latest sample's id (read in the same round trip)."""
    return db.con.execute(
        "SELECT count(*), max(imported_at), count(*) FILTER (WHERE archived), "
        "(SELECT sample_id FROM samples ORDER BY created_at DESC, sample_id DESC LIMIT 1) "
        "FROM transcripts").fetchone()


def prelabels_version(db: Database) -> tuple:
    """Changes whenever a pre-label is added."""
    return db.con.execute("SELECT count(*), max(created_at) FROM prelabels").fetchone()


@dataclass(frozen=True)
class LabelState:
    """Who holds a live label on what, this reviewer's skips, and their labels since a time."""

    labelers: dict[str, frozenset[str]]
    skipped: dict[str, datetime]
    done_since: int


# One pass over annotations (no window functions): a label or adjudication is live unless a
# retraction names it. Same "who holds a label" as the current_labels view, a fraction of the cost.
_STATE = """
WITH retracted AS (
    SELECT DISTINCT retracts AS id FROM annotations WHERE kind = 'retraction' AND retracts IS NOT NULL
), rows AS (
    SELECT a.transcript_id, a.annotator, a.kind, a.created_at,
           a.kind IN ('label', 'adjudication') AND r.id IS NULL AS live
    FROM annotations a LEFT JOIN retracted r ON r.id = a.annotation_id
    WHERE a.kind <> 'retraction'
)
SELECT transcript_id,
       list(DISTINCT annotator) FILTER (WHERE live),
       max(created_at) FILTER (WHERE kind = 'skip' AND annotator = $reviewer),
       bool_or(live AND kind = 'label' AND annotator = $reviewer AND created_at >= $since)
FROM rows GROUP BY transcript_id
"""


def label_state(db: Database, reviewer: str, since: datetime) -> LabelState:
    """Everything a queue needs from annotations, in one query."""
    rows = db.con.execute(_STATE, {"reviewer": reviewer, "since": since}).fetchall()
    labelers = {t: frozenset(who) for t, who, _, _ in rows if who}
    skipped = {t: when for t, _, when, _ in rows if when is not None}
    return LabelState(labelers, skipped, sum(1 for *_, mine in rows if mine))


def metadata_fields(db: Database, limit: int = 2000) -> list[str]:
    """Top-level metadata field names seen in (up to `limit`) transcripts, sorted."""
    rows = db.con.execute(
        "SELECT DISTINCT unnest(json_keys(metadata)) FROM "
        "(SELECT metadata FROM transcripts WHERE NOT archived LIMIT ?) ORDER BY 1", [limit]
    ).fetchall()
    return [r[0] for r in rows]


def recent_labels(db: Database, reviewer: str, limit: int = 5) -> list[tuple[str, str]]:
    """(transcript_id, primary_label) of this reviewer's latest live labels, newest first."""
    return db.con.execute(
        "SELECT transcript_id, arg_max(primary_label, created_at) FROM annotations "
        "WHERE annotator = ? AND kind = 'label' AND annotation_id NOT IN (SELECT retracts FROM "
        "annotations WHERE kind = 'retraction' AND retracts IS NOT NULL) "
        "GROUP BY 1 ORDER BY max(created_at) DESC LIMIT ?", [reviewer, limit]).fetchall()


def annotation_rows_after(db: Database, rowid: int) -> list[tuple]:
    """(rowid, annotation_id, transcript_id, annotator, kind, created_at, retracts) of the rows
    appended after `rowid` (annotations is append-only), in rowid order."""
    return db.con.execute(
        "SELECT rowid, annotation_id, transcript_id, annotator, kind, created_at, retracts "
        "FROM annotations WHERE rowid > ? ORDER BY rowid", [rowid]).fetchall()


def annotation_count(db: Database) -> int:
    """How many annotation rows exist (to notice rows an incremental read missed)."""
    return db.con.execute("SELECT count(*) FROM annotations").fetchone()[0]
