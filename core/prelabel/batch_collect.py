"""Checking Batch API pre-label runs: poll each batch, download its output and error files when
it ends, store the answers exactly as a synchronous run does (same validation and cache), and
retry synchronously what failed: an answer outside the taxonomy gets the synchronous run's one
repair, a failed request is sent again (at full price, within the spend cap). Requests a batch
never processed (expired, cancelled, failed batches) are left for the next `--batch` run."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from openai import OpenAI

from core.config import Settings
from core.errors import UsageError
from core.prelabel.batch import BatchSummary, resume_submissions, same_endpoint, status_lines
from core.prelabel.evidence import checked_evidence
from core.prelabel.llm import LLMResult, ask, make_client, parse_answer, repair_answer
from core.prelabel.plan import EST_TOKENS_OUT, cost_of
from core.prelabel.prompt import seen_text
from core.prelabel.run import Progress, StopRequest
from core.store import prelabel_batches as store
from core.store.connection import Database, utcnow
from core.store.prelabels import Prelabel, save_prelabels
from core.taxonomy import Taxonomy

log = logging.getLogger("triage.prelabel")
ENDED = ("completed", "expired", "cancelled", "failed")
NOT_PROCESSED = ("batch_expired", "batch_cancelled", "batch_failed")


def _row(run: store.BatchRun, item: store.BatchItem, result: LLMResult, cost: float,
         messages: list[dict] | None) -> Prelabel:
    """The stored row of one answer; its evidence is checked against the request's transcript
    (`messages`; None when the request file is gone: the quote is then unverified)."""
    common = dict(transcript_id=item.transcript_id, content_hash=item.content_hash, labeler="llm",
                  model=run.model, prompt_version=run.prompt_version,
                  taxonomy_version=run.taxonomy_version, truncated=item.truncated,
                  latency_ms=result.latency_ms or None, tokens_in=result.tokens_in,
                  tokens_out=result.tokens_out, cost_usd=cost)
    a = result.answer
    if a is None:
        return Prelabel(status="failed", error=result.error, **common)
    return Prelabel(status="ok", primary_label=a.primary_label,
                    secondary_labels=tuple(k for k in a.secondary_labels if k != a.primary_label),
                    confidence=a.confidence, rationale=a.rationale,
                    **checked_evidence(a.evidence, seen_text(messages) if messages else None),
                    **common)


def _lines(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if not file_id:
        return []
    text = client.files.content(file_id).text
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _reason(line: dict[str, Any]) -> tuple[str, str]:
    """(error code, message) of a failed output or error line."""
    err = line.get("error") or ((line.get("response") or {}).get("body") or {}).get("error") or {}
    status = (line.get("response") or {}).get("status_code")
    code = str(err.get("code") or (f"http_{status}" if status else "error"))
    return code, str(err.get("message") or code)


def read_outcome(lines: list[dict[str, Any]], items: dict[str, store.BatchItem],
                 run: store.BatchRun, taxonomy: Taxonomy,
                 requests: dict[str, list[dict]] | None = None) -> tuple[list[Prelabel], list[dict]]:
    """Stored-ready rows for valid answers, and what to retry (a repair or a resend) or leave."""
    rows, retry = [], []
    for line in lines:
        item = items.get(line.get("custom_id", ""))
        if item is None:
            continue
        response = line.get("response") or {}
        body = response.get("body") or {}
        if response.get("status_code") == 200 and body.get("choices"):
            content = body["choices"][0].get("message", {}).get("content")
            usage = body.get("usage") or {}
            n_in, n_out = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
            answer, why = parse_answer(content, taxonomy)
            if answer is not None:
                rows.append(_row(run, item, LLMResult(answer, None, 0, n_in, n_out),
                                 cost_of(run.price, n_in, n_out),
                                 (requests or {}).get(item.custom_id)))
                continue
            retry.append({"custom_id": item.custom_id, "kind": "repair", "content": content,
                          "reason": why, "tokens": [n_in, n_out]})
            continue
        code, message = _reason(line)
        kind = "leave" if code in NOT_PROCESSED else "resend"
        retry.append({"custom_id": item.custom_id, "kind": kind, "reason": f"{code}: {message}",
                      "tokens": [0, 0]})
    return rows, retry


def _download(db: Database, client: OpenAI, run: store.BatchRun, part: store.BatchPart,
              taxonomy: Taxonomy, remote: Any) -> None:
    items = {i.custom_id: i for i in store.batch_items(db, run.run_id, part.part)}
    lines = _lines(client, remote.output_file_id) + _lines(client, remote.error_file_id)
    rows, retry = read_outcome(lines, items, run, taxonomy, _requests(part.file_path))
    seen = {x.get("custom_id") for x in lines}
    left = [r for r in retry if r["kind"] == "leave"] + [
        {"custom_id": c, "kind": "leave", "reason": f"batch {remote.status}: not processed",
         "tokens": [0, 0]} for c in items if c not in seen]
    detail = {"stored": len(rows), "to_retry": [r for r in retry if r["kind"] != "leave"],
              "not_processed": len(left), "downloaded_at": utcnow().isoformat(),
              "cost_usd": sum(r.cost_usd or 0.0 for r in rows),
              "tokens_in": sum(r.tokens_in or 0 for r in rows),
              "tokens_out": sum(r.tokens_out or 0 for r in rows),
              "reason": f"batch {remote.status}" if remote.status != "completed" else None}
    store.store_collected(db, rows, run.run_id, part.part, "downloaded", detail)


def _requests(path: str | None) -> dict[str, list[dict]]:
    if not path or not Path(path).exists():
        return {}
    out = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        req = json.loads(line)
        out[req["custom_id"]] = req["body"]["messages"]
    return out


def _retry_one(client: OpenAI, settings: Settings, taxonomy: Taxonomy, entry: dict,
               messages: list[dict]) -> LLMResult:
    if entry["kind"] == "repair":
        return repair_answer(client, settings, messages, entry.get("content"), entry["reason"],
                             taxonomy, tuple(entry["tokens"]))
    return ask(client, settings, messages, taxonomy)


def _retry(db: Database, client: OpenAI, settings: Settings, run: store.BatchRun,
           part: store.BatchPart, taxonomy: Taxonomy, stop: StopRequest, summary: BatchSummary,
           progress: Progress | None = None) -> None:
    """The synchronous retries of a downloaded part (skipping those a killed check made),
    reported one by one (each is a request at full price)."""
    items = {i.custom_id: i for i in store.batch_items(db, run.run_id, part.part)}
    todo = [e for e in part.detail.get("to_retry", []) if e["custom_id"] in items]
    since = datetime.fromisoformat(part.detail["downloaded_at"])
    done = store.stored_since(db, [items[e["custom_id"]].content_hash for e in todo], run.model,
                              run.prompt_version, run.taxonomy_version, since)
    messages = _requests(part.file_path)
    run_settings = dataclasses.replace(settings, llm_model=run.model)
    for entry in todo:
        item = items[entry["custom_id"]]
        if item.content_hash in done or stop.is_set():
            continue
        est = cost_of(run.full_price, item.est_tokens_in, EST_TOKENS_OUT)
        if run.max_cost_usd is not None and store.run_cost(db, run, run.created_at) + est > run.max_cost_usd:
            summary.notes += (f"spend cap ${run.max_cost_usd:g} reached: retries left for later",)
            return
        if item.custom_id not in messages:
            res = LLMResult(None, "its request file is gone: not retried", 0, 0, 0)
        else:
            res = _retry_one(client, run_settings, taxonomy, entry, messages[item.custom_id])
        n_in, n_out = entry["tokens"]
        cost = cost_of(run.price, n_in, n_out) + cost_of(
            run.full_price, res.tokens_in - n_in, res.tokens_out - n_out)
        row = _row(run, item, res, cost, messages.get(item.custom_id))
        save_prelabels(db, [row])
        summary.add(row)
        if progress:
            progress(summary)
    detail = {**part.detail, "retried": len(todo), "to_retry": []}
    if not stop.is_set():
        store.record_event(db, run.run_id, part.part, "collected", detail)
        if part.file_path:
            Path(part.file_path).unlink(missing_ok=True)  # its answers are all stored


def _poll(db: Database, client: OpenAI, run: store.BatchRun, part: store.BatchPart,
          taxonomy: Taxonomy) -> None:
    remote = client.batches.retrieve(part.batch_id)
    counts = remote.request_counts
    done, failed = (counts.completed, counts.failed) if counts else (None, None)
    if (remote.status, done, failed) != (part.remote_status, part.n_completed, part.n_failed):
        store.record_event(db, run.run_id, part.part, "submitted", remote_status=remote.status,
                           n_completed=done, n_failed=failed, output_file_id=remote.output_file_id,
                           error_file_id=remote.error_file_id)
    if remote.status in ENDED:
        _download(db, client, run, part, taxonomy, remote)


def _count_stored(summary: BatchSummary, detail: dict) -> None:
    """Count the answers a download stored, at the batch price they were stored with (a part
    downloaded before costs were recorded counts $0 here; its rows carry their cost)."""
    summary.done += detail.get("stored", 0)
    summary.cost_usd += detail.get("cost_usd", 0.0)
    summary.tokens_in += detail.get("tokens_in", 0)
    summary.tokens_out += detail.get("tokens_out", 0)


def check_batches(db: Database, settings: Settings, taxonomy: Taxonomy, stop: StopRequest,
                  progress: Progress | None = None) -> BatchSummary:
    """One pass over this endpoint's runs: resume interrupted submissions, poll, download what
    ended, store, retry. Runs of another model or base URL are left alone (and counted)."""
    client = make_client(settings)
    if client is None:
        raise UsageError("--batch-status needs the LLM the batches were sent to: set "
                         "OPENAI_API_KEY (or the same --base-url)")
    summary = BatchSummary("llm", settings.llm_model, 0, 0, checking=True)
    summary.notes = tuple(resume_submissions(db, client, settings, stop))
    runs = store.batch_runs(db)
    other = [r for r in runs if not same_endpoint(r, settings)]
    for run in (r for r in runs if same_endpoint(r, settings)):
        for part in store.batch_parts(db, run.run_id):
            if stop.is_set():
                break
            summary.planned += part.n_requests if part.state in store.LIVE_STATES else 0
            if part.state == "submitted":
                _poll(db, client, run, part, taxonomy)
                part = next(p for p in store.batch_parts(db, run.run_id) if p.part == part.part)
            if part.state == "downloaded":
                _count_stored(summary, part.detail)
                _retry(db, client, settings, run, part, taxonomy, stop, summary, progress)
            if progress:
                progress(summary)
    if other:
        summary.notes += (f"{len(other)} run(s) were sent with another model or base URL: check "
                          "them with its --model / --base-url",)
    summary.parts = tuple(status_lines(db, settings))
    summary.stopped = stop.reason if stop.is_set() else None
    return summary
