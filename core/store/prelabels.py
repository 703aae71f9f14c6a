"""The `prelabels` table: machine suggestions, kept apart from human annotations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from core.errors import NotFound
from core.store.connection import Database, utcnow
from core.store.demo_rows import IN_SCOPE
from core.store.samples import sample_exists

# The labelers whose suggestions stand beside a reviewer as "the pre-label" (Annotate, Browse,
# the low-confidence queue, Home's count). Other labelers' rows (discovery's suggestions for
# "Other" labels, labeler 'discover') are shown apart, where they are made.
PRELABELERS_SQL = "labeler IN ('llm', 'offline')"

COLUMNS = (
    "prelabel_id, transcript_id, content_hash, labeler, model, prompt_version, taxonomy_version, "
    "status, primary_label, secondary_labels, confidence, rationale, evidence, error, truncated, "
    "latency_ms, tokens_in, tokens_out, cost_usd, created_at, evidence_verified, evidence_unverified"
)


@dataclass(frozen=True)
class Prelabel:
    """A suggestion from a labeler (LLM or offline model). Never a human label."""

    transcript_id: str
    content_hash: str | None
    labeler: str
    model: str
    prompt_version: str
    taxonomy_version: str
    status: str  # ok | failed
    primary_label: str | None = None
    secondary_labels: tuple[str, ...] = ()
    confidence: float | None = None
    rationale: str | None = None
    evidence: str | None = None  # only a quote found in the transcript (or the offline model's)
    error: str | None = None
    truncated: bool = False
    latency_ms: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    created_at: datetime | None = None
    prelabel_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    evidence_verified: bool | None = None  # None: no quote, or not checked (offline, legacy)
    evidence_unverified: str | None = None  # the model's quote when it was not found


def _params(p: Prelabel) -> list:
    return [p.prelabel_id, p.transcript_id, p.content_hash, p.labeler, p.model, p.prompt_version,
            p.taxonomy_version, p.status, p.primary_label, list(p.secondary_labels), p.confidence,
            p.rationale, p.evidence, p.error, p.truncated, p.latency_ms, p.tokens_in, p.tokens_out,
            p.cost_usd, p.created_at, p.evidence_verified, p.evidence_unverified]


def _prelabel_table(prelabels: list[Prelabel]) -> Any:
    import pyarrow as pa  # here, not at import: the app's first page does not write pre-labels

    types = {"secondary_labels": pa.list_(pa.string()), "confidence": pa.float64(),
             "truncated": pa.bool_(), "latency_ms": pa.int64(), "tokens_in": pa.int64(),
             "tokens_out": pa.int64(), "cost_usd": pa.float64(), "created_at": pa.timestamp("us"),
             "evidence_verified": pa.bool_()}
    now = utcnow()
    cols = COLUMNS.split(", ")
    values = list(zip(*(_params(p) for p in prelabels), strict=True))
    data = dict(zip(cols, values, strict=True))
    data["created_at"] = [v or now for v in data["created_at"]]
    return pa.table({c: pa.array(data[c], types.get(c, pa.string())) for c in cols})


def insert_prelabels(db: Database, prelabels: list[Prelabel]) -> None:
    """Append suggestions as one Arrow batch, inside the caller's transaction (one INSERT: a
    chunk of thousands is written in milliseconds, where a statement per row took seconds)."""
    if not prelabels:
        return
    con = db.con
    con.register("_prelabel_rows", _prelabel_table(prelabels))
    try:
        con.execute(f"INSERT INTO prelabels ({COLUMNS}) SELECT {COLUMNS} FROM _prelabel_rows")
    finally:
        con.unregister("_prelabel_rows")


def save_prelabels(db: Database, prelabels: list[Prelabel]) -> None:
    """Append suggestions in one transaction. Existing rows are never touched."""
    if not prelabels:
        return
    with db.transaction():
        insert_prelabels(db, prelabels)


def _row(r: tuple) -> Prelabel:
    return Prelabel(
        prelabel_id=r[0], transcript_id=r[1], content_hash=r[2], labeler=r[3], model=r[4],
        prompt_version=r[5], taxonomy_version=r[6], status=r[7], primary_label=r[8],
        secondary_labels=tuple(r[9] or ()), confidence=r[10], rationale=r[11], evidence=r[12],
        error=r[13], truncated=bool(r[14]), latency_ms=r[15], tokens_in=r[16], tokens_out=r[17],
        cost_usd=r[18], created_at=r[19], evidence_verified=r[20], evidence_unverified=r[21])


def latest_prelabel(db: Database, transcript_id: str) -> Prelabel | None:
    """The newest successful pre-label (LLM or offline) for a transcript, if there is one."""
    row = db.con.execute(
        f"SELECT {COLUMNS} FROM prelabels WHERE transcript_id = ? AND status = 'ok' "
        f"AND {PRELABELERS_SQL} "
        "ORDER BY created_at DESC LIMIT 1", [transcript_id]).fetchone()
    return None if row is None else _row(row)


def prelabel_candidates(db: Database, *, only_unlabeled: bool = False,
                        sample_id: str | None = None, limit: int | None = None) -> list[str]:
    """Ids of the transcripts in scope (active; not the bundled demo's in a database that also
    holds the team's) to pre-label: a sample's items in its order, else all in import order;
    optionally only those without a final human label."""
    if sample_id is not None and not sample_exists(db, sample_id):
        raise NotFound(f"no sample with id {sample_id!r}")
    sql = ("SELECT t.transcript_id FROM transcripts t "
           "LEFT JOIN sample_items s ON s.transcript_id = t.transcript_id AND s.sample_id = ? "
           f"WHERE {IN_SCOPE} AND (? IS NULL OR s.sample_id IS NOT NULL) "
           "AND (NOT ? OR t.transcript_id NOT IN "
           "     (SELECT transcript_id FROM final_labels WHERE primary_label IS NOT NULL)) "
           "ORDER BY s.position, t.imported_at, t.transcript_id")
    params: list = [sample_id, sample_id, only_unlabeled]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [r[0] for r in db.con.execute(sql, params).fetchall()]


def done_hashes(db: Database, model: str, prompt_version: str, taxonomy_version: str) -> set[str]:
    """Content hashes already pre-labeled successfully under this (model, prompt, taxonomy):
    the run cache, so a re-run sends no request for them."""
    rows = db.con.execute(
        "SELECT DISTINCT content_hash FROM prelabels WHERE status = 'ok' AND model = ? "
        "AND prompt_version = ? AND taxonomy_version = ?",
        [model, prompt_version, taxonomy_version]).fetchall()
    return {r[0] for r in rows}


def human_final_labels(db: Database) -> list[tuple[str, str]]:
    """(transcript_id, primary_label) of every transcript in scope with a settled final human
    label: what the offline labeler trains on, few-shot examples come from and the evaluation
    scores against. Archived transcripts, and the bundled demo's in a database that also holds
    the team's, are left out."""
    return [(r[0], r[1]) for r in db.con.execute(
        "SELECT f.transcript_id, f.primary_label FROM final_labels f "
        f"JOIN transcripts t USING (transcript_id) WHERE f.primary_label IS NOT NULL AND {IN_SCOPE} "
        "ORDER BY f.transcript_id").fetchall()]


def blind_labeled_ids(db: Database) -> set[str]:
    """Transcripts whose current labels (and adjudication) were all made with no pre-label
    shown (prelabel_visible false, or NULL: imported labels never saw one)."""
    rows = db.con.execute(
        "SELECT transcript_id FROM current_labels GROUP BY transcript_id "
        "HAVING NOT bool_or(coalesce(prelabel_visible, false))").fetchall()
    return {r[0] for r in rows}


def labeler_used(db: Database, labeler: str) -> bool:
    """Whether this labeler ('llm' or 'offline') has stored any successful suggestion."""
    return db.con.execute(
        "SELECT 1 FROM prelabels WHERE labeler = ? AND status = 'ok' LIMIT 1", [labeler]
    ).fetchone() is not None


class Suggestion(NamedTuple):
    """What scoring a labeler reads of one transcript's newest successful suggestion."""

    transcript_id: str
    prompt_version: str | None
    primary_label: str | None
    confidence: float | None


def newest_model(db: Database, labeler: str) -> str | None:
    """The model of this labeler's newest successful suggestion (ties: the first transcript by
    id, then the newest prelabel_id), or None."""
    row = db.con.execute(
        "SELECT model FROM prelabels WHERE status = 'ok' AND labeler = ? "
        "ORDER BY created_at DESC, transcript_id, prelabel_id DESC LIMIT 1", [labeler]).fetchone()
    return None if row is None else row[0]


def latest_suggestions(db: Database, labeler: str, model: str,
                       transcript_ids: Sequence[str]) -> list[Suggestion]:
    """Of these transcripts, those whose newest successful suggestion of one labeler came from
    `model`, with it, by transcript id. Only the given transcripts are read (scoring needs the
    human-labeled ones, not all 100k pre-labels)."""
    rows = db.con.execute(
        "SELECT transcript_id, prompt_version, primary_label, confidence FROM ("
        "SELECT *, row_number() OVER (PARTITION BY transcript_id "
        "ORDER BY created_at DESC, prelabel_id DESC) AS rn FROM prelabels "
        "WHERE status = 'ok' AND labeler = ? AND transcript_id IN (SELECT unnest(?::VARCHAR[]))) "
        "WHERE rn = 1 AND model = ? ORDER BY transcript_id",
        [labeler, list(transcript_ids), model]).fetchall()
    return list(map(Suggestion._make, rows))


def save_prompt(db: Database, prompt_version: str, few_shot_ids: list[str],
                metadata_allowlist: list[str]) -> None:
    """Record which few-shot examples and metadata fields a prompt version used (once)."""
    db.con.execute(
        "INSERT INTO prelabel_prompts VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [prompt_version, few_shot_ids, metadata_allowlist, utcnow()])


def few_shot_ids(db: Database, prompt_versions: list[str]) -> set[str]:
    """Every transcript shown as a few-shot example in any of these prompt versions."""
    rows = db.con.execute(
        "SELECT DISTINCT unnest(few_shot_ids) FROM prelabel_prompts "
        "WHERE prompt_version IN (SELECT unnest(?))", [prompt_versions]).fetchall()
    return {r[0] for r in rows}


def prelabel_state(db: Database) -> tuple:
    """A cheap fingerprint of what a pre-label plan depends on (transcripts, labels,
    pre-labels, settings): a page re-plans only when it changes."""
    return db.con.execute(
        "SELECT (SELECT count(*) FROM transcripts WHERE NOT archived), "
        "(SELECT count(*) FROM annotations), (SELECT count(*) FROM prelabels), "
        "(SELECT count(*) FROM settings)").fetchone()
