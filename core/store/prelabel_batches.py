"""The Batch API's records: runs, the requests of each part, and each part's append-only
events (migration m023). The latest event of a part is its state; ids recorded by earlier
events (input file, batch, output files) stay known."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.store.connection import Database, utcnow
from core.store.prelabels import Prelabel, save_prelabels

LIVE_STATES = ("prepared", "uploaded", "submitted", "downloaded")


@dataclass(frozen=True)
class BatchRun:
    """One `triage prelabel --batch`: what it sent, to which endpoint, at what price."""

    run_id: str
    model: str
    base_url: str | None
    prompt_version: str
    taxonomy_version: str
    n_requests: int
    n_parts: int
    price: dict | None
    full_price: dict | None
    est_cost_usd: float
    max_cost_usd: float | None
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class BatchItem:
    """One request of a part: which transcript (and content) it asks about."""

    run_id: str
    part: int
    custom_id: str
    transcript_id: str
    content_hash: str | None
    truncated: bool
    est_tokens_in: int


@dataclass(frozen=True)
class BatchPart:
    """A part's state as its events tell it."""

    run_id: str
    part: int
    state: str
    file_path: str | None
    input_file_id: str | None
    batch_id: str | None
    remote_status: str | None
    n_completed: int | None
    n_failed: int | None
    output_file_id: str | None
    error_file_id: str | None
    detail: dict
    at: datetime
    n_requests: int


_RUN_COLUMNS = ("run_id, model, base_url, prompt_version, taxonomy_version, n_requests, n_parts, "
                "price, full_price, est_cost_usd, max_cost_usd, created_by, created_at")
_EVENT_FIELDS = ("file_path", "input_file_id", "batch_id", "remote_status", "n_completed",
                 "n_failed", "output_file_id", "error_file_id")


def record_run(db: Database, run: BatchRun, items: list[BatchItem]) -> None:
    """The run and every request it will send, in one transaction (before any file exists)."""
    con = db.con
    with db.transaction():
        con.execute(f"INSERT INTO prelabel_batch_runs ({_RUN_COLUMNS}) VALUES "
                    f"({', '.join('?' * 13)})",
                    [run.run_id, run.model, run.base_url, run.prompt_version, run.taxonomy_version,
                     run.n_requests, run.n_parts, json.dumps(run.price), json.dumps(run.full_price),
                     run.est_cost_usd, run.max_cost_usd, run.created_by, run.created_at])
        con.executemany("INSERT INTO prelabel_batch_items VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [[i.run_id, i.part, i.custom_id, i.transcript_id, i.content_hash,
                          i.truncated, i.est_tokens_in] for i in items])


def record_event(db: Database, run_id: str, part: int, state: str,
                 detail: dict[str, Any] | None = None, **fields: Any) -> None:
    """Append one event of a part (fields: file_path, input_file_id, batch_id, remote_status,
    n_completed, n_failed, output_file_id, error_file_id)."""
    unknown = set(fields) - set(_EVENT_FIELDS)
    assert not unknown, f"unknown event fields {unknown}"
    con = db.con
    with db.transaction():
        con.execute(
            "INSERT INTO prelabel_batch_events (run_id, part, state, "
            f"{', '.join(_EVENT_FIELDS)}, detail, recorded_at) VALUES ({', '.join('?' * 13)})",
            [run_id, part, state, *(fields.get(f) for f in _EVENT_FIELDS),
             json.dumps(detail or {}), utcnow()])


def store_collected(db: Database, rows: list[Prelabel], run_id: str, part: int, state: str,
                    detail: dict[str, Any]) -> None:
    """Pre-labels from a downloaded output and the event saying so, in one transaction: a kill
    before it commits stores neither, so the next check downloads again and stores once."""
    with db.transaction():
        save_prelabels(db, rows)
        record_event(db, run_id, part, state, detail)


def _run(r: tuple) -> BatchRun:
    return BatchRun(*r[:7], json.loads(r[7]) if r[7] else None, json.loads(r[8]) if r[8] else None,
                    *r[9:])


def batch_runs(db: Database) -> list[BatchRun]:
    """Every recorded run, oldest first."""
    return [_run(r) for r in db.con.execute(
        f"SELECT {_RUN_COLUMNS} FROM prelabel_batch_runs ORDER BY created_at, run_id").fetchall()]


def batch_parts(db: Database, run_id: str) -> list[BatchPart]:
    """Each part of a run with its latest state and the ids its events recorded."""
    latest = ", ".join(f"arg_max({f}, event_no) FILTER (WHERE {f} IS NOT NULL)" for f in _EVENT_FIELDS)
    rows = db.con.execute(
        f"SELECT e.part, arg_max(state, event_no), {latest}, arg_max(detail, event_no), "
        "max(recorded_at), (SELECT count(*) FROM prelabel_batch_items i WHERE i.run_id = e.run_id "
        "AND i.part = e.part) FROM prelabel_batch_events e WHERE run_id = ? GROUP BY e.run_id, "
        "e.part ORDER BY e.part", [run_id]).fetchall()
    return [BatchPart(run_id, r[0], r[1], *r[2:10], json.loads(r[10] or "{}"), r[11], r[12])
            for r in rows]


def batch_items(db: Database, run_id: str, part: int) -> list[BatchItem]:
    """The requests of one part, in their order in its file."""
    rows = db.con.execute(
        "SELECT run_id, part, custom_id, transcript_id, content_hash, truncated, est_tokens_in "
        "FROM prelabel_batch_items WHERE run_id = ? AND part = ? ORDER BY rowid", [run_id, part]
    ).fetchall()
    return [BatchItem(*r) for r in rows]


def in_flight_hashes(db: Database, model: str, prompt_version: str,
                     taxonomy_version: str) -> set[str]:
    """Content hashes already in a live (not yet collected) part for this model, prompt and
    taxonomy: a new run leaves them out, so nothing is sent twice."""
    rows = db.con.execute(
        "WITH state AS (SELECT run_id, part, arg_max(state, event_no) AS state "
        "FROM prelabel_batch_events GROUP BY 1, 2) "
        "SELECT DISTINCT i.content_hash FROM prelabel_batch_items i "
        "JOIN state s USING (run_id, part) JOIN prelabel_batch_runs r USING (run_id) "
        "WHERE s.state IN (SELECT unnest(?)) AND r.model = ? AND r.prompt_version = ? "
        "AND r.taxonomy_version = ?",
        [list(LIVE_STATES), model, prompt_version, taxonomy_version]).fetchall()
    return {r[0] for r in rows}


def stored_since(db: Database, hashes: list[str], model: str, prompt_version: str,
                 taxonomy_version: str, since: datetime) -> set[str]:
    """Of these content hashes, those with a pre-label (ok or failed) stored since `since`:
    retries a killed check already made."""
    rows = db.con.execute(
        "SELECT DISTINCT content_hash FROM prelabels WHERE content_hash IN (SELECT unnest(?)) "
        "AND model = ? AND prompt_version = ? AND taxonomy_version = ? AND created_at >= ?",
        [hashes, model, prompt_version, taxonomy_version, since]).fetchall()
    return {r[0] for r in rows}


def run_cost(db: Database, run: BatchRun, since: datetime) -> float:
    """What pre-labels of this run's model and prompt stored since its start have cost."""
    return db.con.execute(
        "SELECT coalesce(sum(cost_usd), 0) FROM prelabels WHERE model = ? AND prompt_version = ? "
        "AND taxonomy_version = ? AND created_at >= ?",
        [run.model, run.prompt_version, run.taxonomy_version, since]).fetchone()[0]
