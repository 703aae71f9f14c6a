"""The `prelabels` table: machine suggestions, kept apart from human annotations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from core.db import Database, utcnow

COLUMNS = (
    "prelabel_id, transcript_id, content_hash, labeler, model, prompt_version, taxonomy_version, "
    "status, primary_label, secondary_labels, confidence, rationale, evidence, error, truncated, "
    "latency_ms, tokens_in, tokens_out, cost_usd, created_at"
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
    evidence: str | None = None
    error: str | None = None
    truncated: bool = False
    latency_ms: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    created_at: datetime | None = None
    prelabel_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def _params(p: Prelabel) -> list:
    return [p.prelabel_id, p.transcript_id, p.content_hash, p.labeler, p.model, p.prompt_version,
            p.taxonomy_version, p.status, p.primary_label, list(p.secondary_labels), p.confidence,
            p.rationale, p.evidence, p.error, p.truncated, p.latency_ms, p.tokens_in, p.tokens_out,
            p.cost_usd, p.created_at or utcnow()]


def save_prelabels(db: Database, prelabels: list[Prelabel]) -> None:
    """Append suggestions in one transaction. Existing rows are never touched."""
    if not prelabels:
        return
    with db.transaction() as con:
        con.executemany(f"INSERT INTO prelabels ({COLUMNS}) VALUES ({', '.join('?' * 20)})",
                        [_params(p) for p in prelabels])


def _row(r: tuple) -> Prelabel:
    return Prelabel(
        prelabel_id=r[0], transcript_id=r[1], content_hash=r[2], labeler=r[3], model=r[4],
        prompt_version=r[5], taxonomy_version=r[6], status=r[7], primary_label=r[8],
        secondary_labels=tuple(r[9] or ()), confidence=r[10], rationale=r[11], evidence=r[12],
        error=r[13], truncated=bool(r[14]), latency_ms=r[15], tokens_in=r[16], tokens_out=r[17],
        cost_usd=r[18], created_at=r[19])


def latest_prelabel(db: Database, transcript_id: str) -> Prelabel | None:
    """The newest successful suggestion for a transcript, from any labeler, if there is one."""
    row = db.con.execute(
        f"SELECT {COLUMNS} FROM prelabels WHERE transcript_id = ? AND status = 'ok' "
        "ORDER BY created_at DESC LIMIT 1", [transcript_id]).fetchone()
    return None if row is None else _row(row)
