"""Executing a planned pre-label run in the caller's thread: bounded concurrency, stop and
resume, a spend cap. Each answer is stored as it arrives, so a stopped run resumes where it ended
(the cache). Pages and the CLI run a plan through core/prelabel/jobs.py (a background thread,
one run per database); the demo loader calls this directly."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from core.config import Settings
from core.logs import redact_url
from core.prelabel.crossfit import CrossFit, cross_fit
from core.prelabel.evidence import checked_evidence
from core.prelabel.llm import LLMResult, ask, make_client
from core.prelabel.offline import Suggestion
from core.prelabel.plan import PlanItem, RunOptions, RunPlan, cost_of, plan_offline
from core.prelabel.prompt import seen_text
from core.store.connection import Database
from core.store.population import save_offline_chunk, start_fit
from core.store.prelabels import Prelabel, done_hashes, save_prelabels, save_prompt
from core.store.transcripts import Transcript, get_transcripts
from core.taxonomy import Taxonomy

log = logging.getLogger("triage.prelabel")
OFFLINE_CHUNK = 2000  # transcripts read, predicted and written together


class StopRequest:
    """Asks a run to start nothing more, and says why: it becomes the summary's `stopped`
    ("stopped" from a page's button, "interrupted" by Ctrl-C). Answers in flight are kept."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def set(self, reason: str = "stopped") -> None:
        """Ask once; a later request does not change the first one's reason."""
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass
class RunSummary:
    """What a run did; updated live and handed to the progress callback."""

    labeler: str
    model: str
    planned: int
    cached: int
    done: int = 0
    failed: Counter = field(default_factory=Counter)  # reason → count
    cost_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    stopped: str | None = None  # why it ended early: stopped, spend cap, or a fatal error
    fold_predictions: int = 0  # offline: cross-fit rows stored for the population estimate

    @property
    def n_failed(self) -> int:
        return sum(self.failed.values())

    @property
    def processed(self) -> int:
        """Transcripts the run is through with: labeled or failed."""
        return self.done + self.n_failed

    def add(self, row: Prelabel) -> None:
        """Count one stored row: labeled or failed, and what it cost."""
        self.tokens_in += row.tokens_in or 0
        self.tokens_out += row.tokens_out or 0
        self.cost_usd += row.cost_usd or 0.0
        if row.status == "ok":
            self.done += 1
        else:
            self.failed[row.error or "unknown"] += 1
            log.info("pre-label failed for %s: %s", row.transcript_id, row.error)


Progress = Callable[[RunSummary], None]


def _llm_row(plan: RunPlan, item: PlanItem, res: LLMResult) -> Prelabel:
    t, a = item.transcript, res.answer
    cost = cost_of(plan.price, res.tokens_in, res.tokens_out)
    common = dict(transcript_id=t.transcript_id, content_hash=t.content_hash, labeler="llm",
                  model=plan.model, prompt_version=plan.prompt_version,
                  taxonomy_version=plan.taxonomy_version, truncated=item.truncated,
                  latency_ms=res.latency_ms, tokens_in=res.tokens_in, tokens_out=res.tokens_out,
                  cost_usd=cost)
    if a is None:
        return Prelabel(status="failed", error=res.error, **common)
    return Prelabel(status="ok", primary_label=a.primary_label,
                    secondary_labels=tuple(k for k in a.secondary_labels if k != a.primary_label),
                    confidence=a.confidence, rationale=a.rationale,
                    **checked_evidence(a.evidence, seen_text(item.messages or [])), **common)


class _LLMRun:
    """The submit/collect loop of one LLM run (the calling thread stores and reports)."""

    def __init__(self, db: Database, settings: Settings, taxonomy: Taxonomy, plan: RunPlan,
                 options: RunOptions, stop: StopRequest, progress: Progress | None) -> None:
        self.db, self.settings, self.taxonomy, self.plan = db, settings, taxonomy, plan
        self.options, self.stop, self.progress = options, stop, progress
        self.client = make_client(settings)
        self.summary = RunSummary("llm", plan.model, len(plan.items), plan.cached)
        self.pending: dict[Future, PlanItem] = {}

    def _may_start(self, item: PlanItem) -> bool:
        cap = self.options.max_cost
        if cap is None:
            return True
        in_flight = sum(i.est_cost for i in self.pending.values())
        if self.summary.cost_usd + in_flight + item.est_cost > cap:
            self.summary.stopped = f"spend cap ${cap:g} reached"
            return False
        return True

    def _fill(self, queue: list[PlanItem], pool: ThreadPoolExecutor) -> None:
        while queue and len(self.pending) < max(1, self.options.concurrency):
            if self.stop.is_set() or self.summary.stopped or not self._may_start(queue[0]):
                return
            item = queue.pop(0)
            fut = pool.submit(ask, self.client, self.settings, item.messages, self.taxonomy)
            self.pending[fut] = item

    def _collect(self, futures: set[Future]) -> None:
        rows = []
        for fut in futures:
            item = self.pending.pop(fut)
            res = fut.result()
            rows.append(_llm_row(self.plan, item, res))
            if res.fatal:
                self.summary.stopped = res.error
        save_prelabels(self.db, rows)  # one transaction for the answers that arrived together
        for row in rows:
            self.summary.add(row)
        if self.progress:
            self.progress(self.summary)

    def run(self) -> RunSummary:
        queue = list(self.plan.items)
        with ThreadPoolExecutor(max_workers=max(1, self.options.concurrency)) as pool:
            try:
                self._fill(queue, pool)
                while self.pending:
                    done, _ = wait(self.pending, return_when=FIRST_COMPLETED)
                    self._collect(done)
                    self._fill(queue, pool)
            finally:  # whatever ended the loop, the answers in flight are paid for: keep them
                if self.pending:
                    wait(self.pending)
                    self._collect(set(self.pending))
        if queue and not self.summary.stopped:
            self.summary.stopped = self.stop.reason or "stopped"
        return self.summary


def _run_offline(db: Database, plan: RunPlan, stop: StopRequest,
                 progress: Progress | None) -> RunSummary:
    summary = RunSummary("offline", plan.model, len(plan.items), plan.cached)
    _offline_chunks(db, plan, _start_cross_fit(db, plan, summary), stop, progress, summary)
    return summary


def _start_cross_fit(db: Database, plan: RunPlan, summary: RunSummary) -> CrossFit | None:
    """The K fold models (one fit of each, for the whole run) when some item needs them; a new
    fit is stored at once with its training transcripts' out-of-fold predictions."""
    if not any(i.folds for i in plan.items) or plan.fit is None:
        return None
    cf, training_rows = cross_fit(plan.offline_model.taxonomy, plan.offline_model,
                                  plan.offline_labeled)
    if not plan.fit_stored:
        start_fit(db, cf.fit, training_rows)
        summary.fold_predictions += len(training_rows)
    return cf


def _offline_chunks(db: Database, plan: RunPlan, cf: CrossFit | None, stop: StopRequest,
                    progress: Progress | None, summary: RunSummary) -> None:
    """Stream the plan in chunks: read the chunk's transcripts, compute their features once,
    suggest and fold-predict from them, write both in one transaction."""
    model = plan.offline_model
    for start in range(0, len(plan.items), OFFLINE_CHUNK):
        if stop.is_set():
            summary.stopped = stop.reason
            break
        items = plan.items[start:start + OFFLINE_CHUNK]
        began = time.perf_counter()
        batch = get_transcripts(db, [i.transcript_id for i in items])
        need = {i.transcript_id: i for i in items}
        features = model.features(batch)
        main = [j for j, t in enumerate(batch) if need[t.transcript_id].main]
        suggestions = model.suggest(features.subset(main))
        folds = []
        if cf is not None:
            fold_idx = [j for j, t in enumerate(batch) if need[t.transcript_id].folds
                        and t.transcript_id not in cf.fold_of]
            folds = cf.predict([batch[j] for j in fold_idx], features.subset(fold_idx))
        each_ms = int((time.perf_counter() - began) * 1000 / max(1, len(batch)))
        rows = [_offline_row(plan, batch[j], s, each_ms)
                for j, s in zip(main, suggestions, strict=True)]
        save_offline_chunk(db, rows, cf.fit.fit_id if cf else None, folds)
        summary.done += len(batch)  # every item of the chunk is finished, whatever it needed
        summary.fold_predictions += len(folds)
        if progress:
            progress(summary)


def without_cached(db: Database, plan: RunPlan) -> RunPlan:
    """The plan less what has been stored since it was made (by another run, or a run this
    plan was made during): a stale plan never sends a transcript twice. (An offline plan is
    cheap to redo and names its transcripts only; it is left as it is.)"""
    if plan.labeler != "llm":
        return plan
    done = done_hashes(db, plan.model, plan.prompt_version, plan.taxonomy_version)
    items = [i for i in plan.items if i.transcript.content_hash not in done]
    if len(items) == len(plan.items):
        return plan
    return dataclasses.replace(plan, items=items, cached=plan.cached + len(plan.items) - len(items))


def _offline_row(plan: RunPlan, t: Transcript, s: Suggestion, each_ms: int) -> Prelabel:
    return Prelabel(transcript_id=t.transcript_id, content_hash=t.content_hash,
                    labeler="offline", model=plan.model, prompt_version=plan.prompt_version,
                    taxonomy_version=plan.taxonomy_version, status="ok", primary_label=s.label,
                    confidence=s.confidence, rationale=s.rationale, evidence=s.evidence,
                    evidence_verified=True if s.evidence else None,  # cut from the transcript
                    latency_ms=each_ms, tokens_in=0, tokens_out=0, cost_usd=0.0)


def execute_run(db: Database, settings: Settings | None, taxonomy: Taxonomy, plan: RunPlan,
                options: RunOptions, stop: StopRequest | None = None,
                progress: Progress | None = None) -> RunSummary:
    """Carry out a plan in this thread. `stop` ends it cleanly (in-flight answers are kept);
    re-planning afterwards resumes, since finished work is cached. `settings` may be None
    offline. One run per database at a time is the caller's rule (PrelabelJob keeps it)."""
    stop = stop or StopRequest()
    plan = without_cached(db, plan)
    if plan.labeler == "offline":
        return _run_offline(db, plan, stop, progress)
    assert settings is not None, "an LLM run needs Settings (key, base URL, model)"
    spec = plan.spec
    save_prompt(db, plan.prompt_version, [s.transcript_id for s in spec.few_shot],
                list(spec.metadata_allowlist))
    log.info("LLM pre-label run: model %s, base URL %s, %d to send, %d cached",
             plan.model, redact_url(settings.llm_base_url) or "api.openai.com", len(plan.items), plan.cached)
    return _LLMRun(db, settings, taxonomy, plan, options, stop, progress).run()


def prelabel_offline_all(db: Database, taxonomy: Taxonomy,
                         progress: Progress | None = None) -> RunSummary:
    """Offline suggestions for every active transcript that lacks one from the current model:
    what the demo loader and the app's first start call. No key, no network."""
    plan = plan_offline(db, taxonomy, RunOptions(offline=True))
    return execute_run(db, None, taxonomy, plan, RunOptions(offline=True), None, progress)
