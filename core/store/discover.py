"""Discovery's tables: the notes it reads, its embeddings cache (m021) and its cluster-name
cache (m022). Suggestions it makes go to `prelabels` (core/store/prelabels.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from core.errors import NotFound
from core.store.connection import Database, utcnow
from core.store.samples import sample_exists


@dataclass(frozen=True)
class NoteRow:
    """A non-empty note on a current label or adjudication of an active transcript."""

    annotation_id: str
    transcript_id: str
    annotator: str
    primary_label: str | None
    note: str
    created_at: datetime


def label_notes(db: Database, only_label: str | None = None,
                sample_id: str | None = None) -> list[NoteRow]:
    """Notes on current labels (retractions applied), oldest first; optionally only those on
    labels of one category, or on one sample's transcripts."""
    if sample_id is not None and not sample_exists(db, sample_id):
        raise NotFound(f"no sample with id {sample_id!r}")
    rows = db.con.execute(
        "SELECT c.annotation_id, c.transcript_id, c.annotator, c.primary_label, trim(c.note), "
        "c.created_at FROM current_labels c JOIN transcripts t USING (transcript_id) "
        "WHERE NOT t.archived AND c.kind IN ('label', 'adjudication') "
        "AND trim(coalesce(c.note, '')) <> '' AND (? IS NULL OR c.primary_label = ?) "
        "AND (? IS NULL OR c.transcript_id IN "
        "     (SELECT transcript_id FROM sample_items WHERE sample_id = ?)) "
        "ORDER BY c.created_at, c.annotation_id",
        [only_label, only_label, sample_id, sample_id]).fetchall()
    return [NoteRow(*r) for r in rows]


def final_label_ids(db: Database, label: str) -> set[str]:
    """Active transcripts whose final label is `label` (e.g. every settled "Other")."""
    rows = db.con.execute(
        "SELECT f.transcript_id FROM final_labels f JOIN transcripts t USING (transcript_id) "
        "WHERE NOT t.archived AND f.primary_label = ?", [label]).fetchall()
    return {r[0] for r in rows}


def transcript_hashes(db: Database, transcript_ids: list[str]) -> dict[str, str]:
    """transcript_id → content_hash, for the suggestions' cache key."""
    rows = db.con.execute(
        "SELECT transcript_id, content_hash FROM transcripts WHERE list_contains(?, transcript_id)",
        [transcript_ids]).fetchall()
    return dict(rows)


def cached_embeddings(db: Database, model: str, text_hashes: list[str]) -> dict[str, list[float]]:
    """text hash → vector, for the texts this embedding model has already embedded."""
    rows = db.con.execute(
        "SELECT text_hash, vector FROM discover_embeddings WHERE model = ? "
        "AND list_contains(?, text_hash)", [model, text_hashes]).fetchall()
    return {h: list(v) for h, v in rows}


def save_embeddings(db: Database, model: str, vectors: dict[str, list[float]],
                    tokens: dict[str, int]) -> None:
    """Store new embeddings (one transaction); a text already cached is left as it is."""
    if not vectors:
        return
    now, con = utcnow(), db.con
    with db.transaction():
        con.executemany(
            "INSERT INTO discover_embeddings VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(model, h, v, tokens.get(h), now) for h, v in vectors.items()])


def cached_cluster_name(db: Database, model: str, prompt_version: str,
                        cluster_hash: str) -> dict | None:
    """The chat model's stored answer for this cluster (same examples, model, prompt)."""
    row = db.con.execute(
        "SELECT answer FROM discover_names WHERE model = ? AND prompt_version = ? "
        "AND cluster_hash = ?", [model, prompt_version, cluster_hash]).fetchone()
    return None if row is None else json.loads(row[0])


def save_cluster_name(db: Database, model: str, prompt_version: str, cluster_hash: str,
                      answer: dict, tokens_in: int, tokens_out: int, cost_usd: float) -> None:
    """Store a valid naming answer (failed answers are not cached: a re-run asks again)."""
    con = db.con
    with db.transaction():
        con.execute(
            "INSERT INTO discover_names VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [model, prompt_version, cluster_hash, json.dumps(answer), tokens_in, tokens_out,
             cost_usd, utcnow()])
