"""Set-based statements for importing labels: which transcripts exist, which imported labels
are already stored, and the bulk insert of annotation rows."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from core.store.annotations import INSERT_COLUMNS, NewAnnotation, annotation_params

_TYPES = {"secondary_labels": pa.list_(pa.string()), "failure_turn": pa.int32(),
          "prelabel_visible": pa.bool_(), "duration_ms": pa.int64(),
          "created_at": pa.timestamp("us")}


def _with_keys(con: Any, column: str, values: list[str], sql: str) -> list[tuple]:
    keys = f"(SELECT unnest(?::VARCHAR[]) AS {column})"
    return con.execute(sql.replace("_keys", keys), [values]).fetchall()


def existing_transcripts(con: Any, ids: list[str]) -> set[str]:
    """Of these ids, those of stored transcripts."""
    rows = _with_keys(con, "transcript_id", ids,
                      "SELECT DISTINCT transcript_id FROM _keys JOIN transcripts USING (transcript_id)")
    return {r[0] for r in rows}


def transcript_ids_by_record(con: Any, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(source, record id) → the transcript id it is stored under, for those that exist."""
    if not keys:
        return {}
    rows = con.execute(
        "SELECT t.source, t.record_id, t.transcript_id FROM (SELECT unnest(?::VARCHAR[]) AS source, "
        "unnest(?::VARCHAR[]) AS record_id) k JOIN transcripts t USING (source, record_id)",
        [[s for s, _ in keys], [r for _, r in keys]]).fetchall()
    return {(s, r): t for s, r, t in rows}


def stored_keys(con: Any, ids: list[str]) -> set[tuple]:
    """(transcript_id, annotator, primary_label, created_at) of labels already imported for
    these transcripts: a re-import of the same file adds nothing."""
    rows = _with_keys(con, "transcript_id", ids,
                      "SELECT a.transcript_id, a.annotator, a.primary_label, a.created_at "
                      "FROM annotations a WHERE a.origin = 'import' AND a.kind = 'label' "
                      "AND a.transcript_id IN (SELECT transcript_id FROM _keys)")
    return set(rows)


def insert_annotations(con: Any, annotations: list[NewAnnotation]) -> None:
    """Bulk-insert annotations inside the caller's transaction."""
    if not annotations:
        return
    names = [c.strip() for c in INSERT_COLUMNS.split(",")]
    params = [annotation_params(a) for a in annotations]
    frame = pa.table({name: pa.array([p[i] for p in params], _TYPES.get(name, pa.string()))
                      for i, name in enumerate(names)})
    con.register("_labels", frame)
    try:
        con.execute(f"INSERT INTO annotations ({INSERT_COLUMNS}) SELECT {INSERT_COLUMNS} FROM _labels")
    finally:
        con.unregister("_labels")
