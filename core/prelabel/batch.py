"""Pre-labels through OpenAI's Batch API (issue 20): the same requests as a synchronous run,
written as JSONL (custom_id = prompt version + transcript), split under the API's limits,
uploaded and turned into batches, at batch prices. Every step is recorded in the database as
soon as it is true (core/store/prelabel_batches.py), so a process killed anywhere resumes: a file
uploaded but not recorded is found by its name, a batch created but not recorded by its
metadata, and neither is sent twice. Collecting answers is core/prelabel/batch_collect.py."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from openai import OpenAI

from core.config import Settings
from core.errors import UsageError
from core.logs import redact_url
from core.prelabel.describe import transcripts
from core.prelabel.llm import make_client, request_body
from core.prelabel.plan import EST_TOKENS_OUT, RunOptions, RunPlan, cost_of, plan_run
from core.prelabel.run import Progress, RunSummary, StopRequest, without_cached
from core.store import prelabel_batches as store
from core.store.connection import Database, utcnow
from core.store.prelabels import save_prompt
from core.store.settings import get_settings
from core.taxonomy import Taxonomy

log = logging.getLogger("triage.prelabel")
ENDPOINT, WINDOW = "/v1/chat/completions", "24h"
MAX_REQUESTS = 50_000  # the Batch API's limit per file
MAX_BYTES = 190_000_000  # under its 200 MB per file, with room to spare


@dataclass
class BatchSummary(RunSummary):
    """A RunSummary (what the page and CLI already draw) with one status line per batch."""

    parts: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    checking: bool = False  # a --batch-status pass (else a submission)


@dataclass(frozen=True)
class Limits:
    """How a run is split into files (tests split small)."""

    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES


def batch_price(model: str, batch_table: dict, price_table: dict) -> tuple[dict | None, str]:
    """The Batch API price of a model: its batch_price_table entry, else half its price_table
    entry; and where it came from."""
    if model in batch_table:
        return dict(batch_table[model]), f"batch_price_table[{model!r}]"
    if model in price_table:
        return ({k: float(v) / 2 for k, v in price_table[model].items()},
                f"half of price_table[{model!r}]")
    return None, f"no price for {model!r} in batch_price_table or price_table: cost counted as $0"


def custom_id(prompt_version: str, transcript_id: str) -> str:
    """The request's id in the batch: the prompt version (hex, no ':') then the transcript."""
    return f"{prompt_version}:{transcript_id}"


def batch_plan(db: Database, plan: RunPlan, options: RunOptions) -> RunPlan:
    """The plan at batch prices, less what is cached or already in a live batch, within the
    spend cap (applied here, before anything is sent)."""
    if plan.labeler != "llm":
        raise UsageError("--batch needs an LLM: set OPENAI_API_KEY (or a --base-url)")
    plan = without_cached(db, plan)
    s = get_settings(db, "batch_price_table", "price_table")
    price, source = batch_price(plan.model, s["batch_price_table"], s["price_table"])
    busy = store.in_flight_hashes(db, plan.model, plan.prompt_version, plan.taxonomy_version)
    items, spent, capped = [], 0.0, 0
    for item in plan.items:
        if item.transcript.content_hash in busy:
            continue
        cost = cost_of(price, item.est_tokens_in, EST_TOKENS_OUT)
        if options.max_cost is not None and spent + cost > options.max_cost:
            capped += 1
            continue
        spent += cost
        items.append(dataclasses.replace(item, est_cost=cost))
    notices = [*plan.notices, f"Batch API prices ({source}); answers within 24 hours"]
    if busy:
        notices.append(f"{transcripts(len(busy))} in batches not yet collected: left out")
    if capped:
        notices.append(f"spend cap ${options.max_cost:g}: {transcripts(capped)} left for a later run")
    return dataclasses.replace(plan, items=items, price=price, notices=notices)


def plan_batch(db: Database, settings: Settings, taxonomy: Taxonomy,
               options: RunOptions) -> RunPlan:
    """A Batch API run's plan (see batch_plan), its notices ending with the state of this
    endpoint's earlier runs."""
    plan = batch_plan(db, plan_run(db, settings, taxonomy, options), options)
    plan.notices += status_lines(db, settings)
    return plan


def request_lines(plan: RunPlan, settings: Settings, taxonomy: Taxonomy) -> list[tuple[str, bytes]]:
    """(custom_id, JSONL line) per planned transcript: the body a synchronous run would send."""
    out = []
    for item in plan.items:
        cid = custom_id(plan.prompt_version, item.transcript.transcript_id)
        line = {"custom_id": cid, "method": "POST", "url": ENDPOINT,
                "body": request_body(settings, item.messages, taxonomy)}
        out.append((cid, (json.dumps(line, ensure_ascii=False) + "\n").encode()))
    return out


def split_parts(lines: list[tuple[str, bytes]], limits: Limits) -> list[list[tuple[str, bytes]]]:
    """Consecutive parts, each within the request and byte limits."""
    parts: list[list[tuple[str, bytes]]] = [[]]
    size = 0
    for cid, line in lines:
        if parts[-1] and (len(parts[-1]) >= limits.max_requests or size + len(line) > limits.max_bytes):
            parts.append([])
            size = 0
        parts[-1].append((cid, line))
        size += len(line)
    return [p for p in parts if p]


def batch_folder(db: Database) -> Path:
    """Where request files wait until their batch is collected: beside the database."""
    return db.path.resolve().with_name(db.path.stem + ".batches")


def upload_name(run_id: str, part: int) -> str:
    """The uploaded file's name: how an upload that was not recorded is found again."""
    return f"triage-{run_id}-{part}.jsonl"


def _write_part(folder: Path, run_id: str, part: int, lines: list[tuple[str, bytes]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / upload_name(run_id, part)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"".join(line for _, line in lines))
    tmp.replace(path)  # whole or absent
    return path


def _record_new_run(db: Database, settings: Settings, plan: RunPlan, options: RunOptions,
                    parts: list[list[tuple[str, bytes]]], created_by: str | None) -> store.BatchRun:
    run_id = uuid.uuid4().hex[:12]
    full = get_settings(db, "price_table")["price_table"].get(plan.model)
    run = store.BatchRun(run_id, plan.model, redact_url(settings.llm_base_url), plan.prompt_version,
                         plan.taxonomy_version, len(plan.items), len(parts), plan.price, full,
                         plan.est_cost, options.max_cost, created_by, utcnow())
    by_cid = {custom_id(plan.prompt_version, i.transcript.transcript_id): i for i in plan.items}
    items = [store.BatchItem(run_id, n, cid, by_cid[cid].transcript.transcript_id,
                             by_cid[cid].transcript.content_hash, by_cid[cid].truncated,
                             by_cid[cid].est_tokens_in)
             for n, part in enumerate(parts, 1) for cid, _ in part]
    folder = batch_folder(db)
    with db.transaction():
        store.record_run(db, run, items)
        for n, part in enumerate(parts, 1):  # the file first: a 'prepared' part has its file
            path = _write_part(folder, run_id, n, part)
            store.record_event(db, run_id, n, "prepared", {"bytes": path.stat().st_size},
                               file_path=str(path))
    return run


# Lists come newest first: the search stops at objects made before the run (a minute's slack
# for clocks), so an account with years of batches is not read through on every submission.
CLOCK_SLACK_SECONDS = 60


def _since(run: store.BatchRun) -> float:
    return run.created_at.replace(tzinfo=UTC).timestamp() - CLOCK_SLACK_SECONDS


def _find_upload(client: OpenAI, name: str, since: float) -> str | None:
    for f in client.files.list(purpose="batch", order="desc"):
        if f.created_at < since:
            return None
        if f.filename == name and getattr(f, "status", None) != "error":
            return f.id
    return None


def _find_batch(client: OpenAI, tag: str, since: float) -> str | None:
    for b in client.batches.list(limit=100):
        if b.created_at < since:
            return None
        if (b.metadata or {}).get("triage_part") == tag:
            return b.id
    return None


def submit_part(db: Database, client: OpenAI, run: store.BatchRun, part: store.BatchPart) -> str:
    """Upload (unless uploaded) and create the batch (unless created) of a prepared part;
    each step recorded right after it. Returns the batch id."""
    file_id = part.input_file_id
    if part.state == "prepared":
        name = upload_name(run.run_id, part.part)
        file_id = _find_upload(client, name, _since(run))
        if file_id is None:
            with open(part.file_path, "rb") as f:
                file_id = client.files.create(file=(name, f), purpose="batch").id
        store.record_event(db, run.run_id, part.part, "uploaded", input_file_id=file_id)
    tag = f"{run.run_id}:{part.part}"
    batch_id = _find_batch(client, tag, _since(run))
    if batch_id is None:
        batch_id = client.batches.create(
            input_file_id=file_id, endpoint=ENDPOINT, completion_window=WINDOW,
            metadata={"triage_run": run.run_id, "triage_part": tag, "source": "triage",
                      "prompt_version": run.prompt_version}).id
    store.record_event(db, run.run_id, part.part, "submitted", batch_id=batch_id,
                       remote_status="validating")
    return batch_id


def same_endpoint(run: store.BatchRun, settings: Settings) -> bool:
    """Whether a run was made for the model and base URL these settings name: only then is
    it checked (the key goes only to the endpoint configured with it)."""
    def norm(url: str | None) -> str:
        return (url or "").rstrip("/")

    return run.model == settings.llm_model and norm(run.base_url) == norm(redact_url(settings.llm_base_url))


def resume_submissions(db: Database, client: OpenAI, settings: Settings,
                       stop: StopRequest) -> list[str]:
    """Submit every part of this endpoint's runs that a killed process left prepared or
    uploaded. Returns a line per part resumed."""
    lines = []
    for run in store.batch_runs(db):
        if not same_endpoint(run, settings):
            continue
        for part in store.batch_parts(db, run.run_id):
            if part.state not in ("prepared", "uploaded") or stop.is_set():
                continue
            if part.file_path is None or not Path(part.file_path).exists():
                store.record_event(db, run.run_id, part.part, "abandoned",
                                   {"reason": "its request file is gone; the next run sends these again"})
                lines.append(f"run {run.run_id} part {part.part}: request file gone, abandoned")
                continue
            batch_id = submit_part(db, client, run, part)
            lines.append(f"run {run.run_id} part {part.part}: resumed, batch {batch_id}")
    return lines


def submit_batches(db: Database, settings: Settings, taxonomy: Taxonomy, plan: RunPlan,
                   options: RunOptions, stop: StopRequest, progress: Progress | None = None,
                   created_by: str | None = None, limits: Limits = Limits()) -> BatchSummary:
    """Resume what a killed submission left, then send `plan` (made by batch_plan) as batches.
    Returns once every batch exists."""
    client = make_client(settings)
    if client is None:
        raise UsageError("--batch needs an LLM: set OPENAI_API_KEY (or a --base-url)")
    summary = BatchSummary("llm", plan.model, len(plan.items), plan.cached)
    resumed = resume_submissions(db, client, settings, stop)
    if plan.items and not stop.is_set():
        save_prompt(db, plan.prompt_version, [s.transcript_id for s in plan.spec.few_shot],
                    list(plan.spec.metadata_allowlist))
        parts = split_parts(request_lines(plan, settings, taxonomy), limits)
        run = _record_new_run(db, settings, plan, options, parts, created_by)
        for part in store.batch_parts(db, run.run_id):
            if stop.is_set():
                break
            submit_part(db, client, run, part)
            if progress:
                progress(summary)
        log.info("batch run %s: %d requests in %d batches", run.run_id, len(plan.items), len(parts))
    summary.stopped = stop.reason if stop.is_set() else None
    summary.notes = tuple(resumed)
    summary.parts = tuple(status_lines(db, settings))
    return summary


def _part_line(part: store.BatchPart, n_parts: int) -> str:
    where = part.batch_id or "not submitted yet"
    line = f"  batch {part.part}/{n_parts} {where}: {part.n_requests:,} requests, {part.state}"
    if part.state == "submitted":
        done = part.n_completed or 0
        line += (f" ({part.remote_status or 'validating'}: {done:,}/{part.n_requests:,} done, "
                 f"{part.n_failed or 0:,} failed)")
    stored = part.detail.get("stored")
    if stored is not None:
        line += f" → {stored:,} stored"
    for key, words in (("retried", "retried synchronously"), ("not_processed", "left for the next run")):
        if part.detail.get(key):
            line += f", {part.detail[key]:,} {words}"
    return line + (f"; {part.detail['reason']}" if part.detail.get("reason") else "")


def status_lines(db: Database, settings: Settings) -> list[str]:
    """Progress per batch of this endpoint's runs, the latest run last."""
    out = []
    for run in store.batch_runs(db):
        if not same_endpoint(run, settings):
            continue
        parts = store.batch_parts(db, run.run_id)
        live = sum(p.state in store.LIVE_STATES for p in parts)
        stored = sum(p.detail.get("stored", 0) for p in parts)
        retried = sum(p.detail.get("retried", 0) for p in parts)
        left = sum(p.detail.get("not_processed", 0) for p in parts)
        done = (f"collected: {stored:,} stored from the batches, {retried:,} retried "
                f"synchronously, {left:,} left for the next run")
        out.append(f"run {run.run_id} ({run.model}, {run.n_requests:,} requests, estimated "
                   f"${run.est_cost_usd:.4f} at batch prices): "
                   + (f"{live} of {len(parts)} batches not collected yet" if live else done))
        if live:
            out += [_part_line(p, len(parts)) for p in parts]
    return out
