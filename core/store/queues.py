"""SQL behind the annotation queues: candidate orders, and the annotation rows and live-label
holders the label tracker (core/labels/tracker.py) reads.

Candidate orders are computed once per queue and cached by core/labels/queues.py; the per-save queries
here touch only the (small) annotations table, so "save + next" does not grow with transcripts.
"""

from __future__ import annotations

from core.store.connection import Database
from core.store.prelabels import PRELABELERS_SQL

# A stable, seeded shuffle: md5 of id and seed (DuckDB's md5 never changes between versions).
_SEEDED = "md5(t.transcript_id || ':' || CAST(? AS VARCHAR))"

# The newest successful pre-label per transcript.
_LATEST_PRELABEL = f"""
    SELECT transcript_id,
           arg_max(confidence, created_at) AS confidence,
           arg_max(primary_label, created_at) AS primary_label
    FROM prelabels WHERE status = 'ok' AND {PRELABELERS_SQL} GROUP BY transcript_id
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


def metadata_fields(db: Database, limit: int = 2000) -> list[str]:
    """Top-level metadata field names seen in (up to `limit`) transcripts, sorted."""
    rows = db.con.execute(
        "SELECT DISTINCT unnest(json_keys(metadata)) FROM "
        "(SELECT metadata FROM transcripts WHERE NOT archived LIMIT ?) ORDER BY 1", [limit]
    ).fetchall()
    return [r[0] for r in rows]


def annotation_rows_after(db: Database, rowid: int) -> list[tuple]:
    """(rowid, transcript_id, annotator, kind, created_at, retracts) of the rows appended
    after `rowid` (annotations is append-only), in rowid order."""
    return db.con.execute(
        "SELECT rowid, transcript_id, annotator, kind, created_at, retracts "
        "FROM annotations WHERE rowid > ? ORDER BY rowid", [rowid]).fetchall()


def annotation_count(db: Database) -> int:
    """How many annotation rows exist (to notice rows an incremental read missed)."""
    return db.con.execute("SELECT count(*) FROM annotations").fetchone()[0]


def transcripts_of(db: Database, annotation_ids: list[str]) -> set[str]:
    """The transcripts the given annotations are about (what a retraction touches)."""
    rows = db.con.execute("SELECT DISTINCT transcript_id FROM annotations "
                          "WHERE list_contains(?, annotation_id)", [annotation_ids]).fetchall()
    return {r[0] for r in rows}


def live_holders(db: Database, transcript_ids: list[str] | None = None,
                 annotator: str | None = None) -> list[tuple]:
    """(transcript_id, annotator, created_at and primary_label of their latest live label, or
    NULLs when they hold only an adjudication) per annotator holding a live label or
    adjudication on one of these transcripts (None: on any), or only this annotator's. Read
    from live_annotations, the one home of the live-label rule."""
    where, params = [], []
    if transcript_ids is not None:
        where.append(f"transcript_id IN ({', '.join('?' * len(transcript_ids))})")
        params += transcript_ids
    if annotator is not None:
        where.append("annotator = ?")
        params.append(annotator)
    return db.con.execute(
        "SELECT transcript_id, annotator, max(created_at) FILTER (WHERE kind = 'label'), "
        "arg_max(primary_label, created_at) FILTER (WHERE kind = 'label') FROM live_annotations "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} GROUP BY transcript_id, annotator",
        params).fetchall()


_SEP = "\x1f"  # joins a transcript's holders in one string: 100k rows fetch 3× faster than lists


def holders_whole(db: Database) -> tuple[int, int, dict[str, frozenset[str]], list[tuple]]:
    """Everything the label tracker starts from: the annotation count and last rowid (read
    together, before the rest), who holds a live label or adjudication on each transcript, and
    (transcript_id, annotator, latest created_at) of every skip."""
    n, last = db.con.execute("SELECT count(*), coalesce(max(rowid), -1) FROM annotations").fetchone()
    rows = db.con.execute(
        "SELECT transcript_id, string_agg(annotator, ?), count(*) FROM (SELECT DISTINCT "
        "transcript_id, annotator FROM live_annotations) GROUP BY transcript_id", [_SEP]).fetchall()
    held = {}
    for tid, joined, k in rows:
        who = joined.split(_SEP)
        if len(who) != k:  # a name holding the separator: read that transcript's as a list
            who = db.con.execute("SELECT list(DISTINCT annotator) FROM live_annotations WHERE "
                                 "transcript_id = ?", [tid]).fetchone()[0]
        held[tid] = frozenset(who)
    skips = db.con.execute("SELECT transcript_id, annotator, max(created_at) FROM annotations "
                           "WHERE kind = 'skip' GROUP BY ALL").fetchall()
    return n, last, held, skips
