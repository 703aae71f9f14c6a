"""Pre-label runs as jobs: a run in a background thread that a page or the CLI starts, stops and
polls. One job per database at a time in this process, so two browser tabs never send the same
transcripts twice; other processes are kept out by DuckDB's own file lock.

A job runs any `Work` (a function of a StopRequest and a progress callback that returns a
RunSummary); `PrelabelJob.start` runs a plan (the LLM or the offline labeler) through it."""

from __future__ import annotations

import atexit
import dataclasses
import functools
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from core.config import Settings
from core.errors import RunInProgress, TriageError, UsageError
from core.prelabel.batch import BatchSummary, submit_batches
from core.prelabel.batch_collect import check_batches
from core.prelabel.plan import RunOptions, RunPlan
from core.prelabel.run import Progress, RunSummary, StopRequest, execute_run
from core.store.connection import Database
from core.taxonomy import Taxonomy

log = logging.getLogger("triage.prelabel")
Work = Callable[[StopRequest, Progress], RunSummary]
DEFAULT_GRACE_SECONDS = 60.0  # how long exit waits for answers in flight, when nothing better is known


@dataclass(frozen=True)
class JobProgress:
    """One consistent look at a job: what a page or the CLI draws."""

    summary: RunSummary  # a copy: planned, cached, done, failed by reason, cost, tokens, stopped
    stopping: bool  # asked to stop; answers still in flight are being stored
    finished: bool  # everything the job will store is stored
    error: Exception | None = None  # what ended it, when its work raised (the log has the traceback)


def _copy(summary: RunSummary) -> RunSummary:
    return dataclasses.replace(summary, failed=Counter(summary.failed))


def _ended_by(error: Exception) -> str:
    if isinstance(error, TriageError):
        return str(error)
    return f"unexpected {type(error).__name__} (details in the log)"


class PrelabelJob:
    """A pre-label run in a background thread: start, stop, poll `progress()`, wait for it."""

    _running: dict[str, PrelabelJob] = {}  # database file → its job, while the job runs
    _guard = threading.Lock()

    def __init__(self, key: str, work: Work, first: RunSummary, grace_seconds: float) -> None:
        self._key, self._work, self.grace_seconds = key, work, grace_seconds
        self._stop = StopRequest()
        self._lock = threading.Lock()
        self._summary, self._error = _copy(first), None
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"prelabel {key}", daemon=True)

    @classmethod
    def start(cls, db: Database, settings: Settings | None, taxonomy: Taxonomy, plan: RunPlan,
              options: RunOptions) -> PrelabelJob:
        """Start carrying out `plan`. Work stored since the plan was made is skipped, so a stale
        plan sends nothing twice. Raises RunInProgress while another job runs on `db`."""
        if plan.labeler == "llm" and (settings is None or settings.llm_model != plan.model):
            raise UsageError("this plan was made for another model; plan the run again")
        work = functools.partial(execute_run, db, settings, taxonomy, plan, options)
        grace = (settings.llm_timeout * (settings.llm_max_retries + 1) + 5 if settings
                 else DEFAULT_GRACE_SECONDS)
        first = RunSummary(plan.labeler, plan.model, len(plan.items), plan.cached)
        return cls.start_work(db, work, first, grace)

    @classmethod
    def start_batch(cls, db: Database, settings: Settings, taxonomy: Taxonomy, plan: RunPlan,
                    options: RunOptions, user: str | None = None) -> PrelabelJob:
        """Send `plan` (made by batch.plan_batch) through the Batch API; ends once its batches
        exist (and any a killed submission left are sent)."""
        work = functools.partial(submit_batches, db, settings, taxonomy, plan, options,
                                 created_by=user or settings.user)
        return cls.start_work(db, work, BatchSummary("llm", plan.model, len(plan.items), plan.cached))

    @classmethod
    def check_batches(cls, db: Database, settings: Settings, taxonomy: Taxonomy) -> PrelabelJob:
        """One pass over this endpoint's Batch API runs: poll, download, store, retry."""
        work = functools.partial(check_batches, db, settings, taxonomy)
        return cls.start_work(db, work, BatchSummary("llm", settings.llm_model, 0, 0, checking=True))

    @classmethod
    def start_work(cls, db: Database, work: Work, first: RunSummary,
                   grace_seconds: float = DEFAULT_GRACE_SECONDS) -> PrelabelJob:
        """Claim `db` for this process and run `work` in a background thread; `first` is what
        progress() shows until the work reports. `grace_seconds` bounds how long the process's
        exit waits for the answers in flight."""
        key = str(db.path.resolve())
        with cls._guard:
            if key in cls._running:
                raise RunInProgress("another pre-label run is going on this database; wait for "
                                    "it to finish or stop it, then start again (finished work "
                                    "is cached)")
            job = cls(key, work, first, grace_seconds)
            cls._running[key] = job
        job._thread.start()
        return job

    @classmethod
    def running(cls, db: Database) -> PrelabelJob | None:
        """The job running on `db` in this process (started by any page or tab), if any."""
        with cls._guard:
            return cls._running.get(str(db.path.resolve()))

    def stop(self, reason: str = "stopped") -> None:
        """Start no further request; answers in flight are stored. Returns at once."""
        if not self._stop.is_set():
            log.info("pre-label job on %s: stop asked (%s)", self._key, reason)
        self._stop.set(reason)

    def progress(self) -> JobProgress:
        """A snapshot, consistent in itself, of what the job has done so far."""
        with self._lock:
            return JobProgress(_copy(self._summary), self._stop.is_set(),
                               self._finished.is_set(), self._error)

    @property
    def finished(self) -> bool:
        """Whether the job has ended and stored everything it will store."""
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job finishes (or `timeout` seconds pass); True when it finished."""
        if not self._finished.wait(timeout):
            return False
        # The thread ends right after; joined so that nothing of it (its DuckDB cursor) outlives
        # the caller closing the database: a daemon thread's cursor freed during interpreter
        # shutdown aborted the CLI process (SIGABRT, about 1 run in 7).
        self._thread.join()
        return True

    def result(self) -> RunSummary:
        """Wait for the end; the final summary, or the error that ended the job, raised."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self.progress().summary

    def _report(self, summary: RunSummary) -> None:
        with self._lock:
            self._summary = _copy(summary)

    def _run(self) -> None:
        try:
            final = self._work(self._stop, self._report)
            with self._lock:
                self._summary = _copy(final)
        except Exception as e:  # noqa: BLE001 - kept for the page and the CLI, logged in full
            log.exception("pre-label job on %s failed", self._key)
            with self._lock:
                self._error = e
                self._summary.stopped = _ended_by(e)
        finally:
            self._work = None  # the plan holds every prepared request: free it
            with PrelabelJob._guard:  # everything is stored: the next job may start
                PrelabelJob._running.pop(self._key, None)
            with self._lock:
                self._finished.set()


@atexit.register
def _stop_jobs_at_exit() -> None:
    """The job threads are daemons, so the app's shutdown or a second Ctrl-C is not held up by
    a long run; first stop every job and let it store the answers already paid for."""
    with PrelabelJob._guard:
        jobs = list(PrelabelJob._running.values())
    for job in jobs:
        job.stop("interrupted")
    for job in jobs:
        job.wait(job.grace_seconds)
