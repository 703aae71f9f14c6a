"""`triage prelabel`: LLM (or offline) suggestions for transcripts; `--evaluate` measures them."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from core.cli.common import add_command, reading_database
from core.config import Settings
from core.errors import UsageError
from core.prelabel.batch import BatchSummary, plan_batch
from core.prelabel.describe import batch_lines, describe_plan, evaluation_table, summary_lines
from core.prelabel.evaluate import evaluate_prelabels
from core.prelabel.jobs import PrelabelJob
from core.prelabel.plan import RunOptions, RunPlan, plan_run
from core.prelabel.run import RunSummary
from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.store.settings import get_setting
from core.taxonomy import load_taxonomy

PROGRESS_SECONDS = 0.1  # how often the progress bar is redrawn (only when it changed)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "prelabel", "Pre-label transcripts with an LLM, or offline without a key.",
                    "triage prelabel --limit 50 --max-cost 0.50 --yes")
    p.add_argument("--offline", action="store_true", help="use the offline labeler (no network)")
    p.add_argument("--model", metavar="M", help="LLM model (env TRIAGE_LLM_MODEL)")
    p.add_argument("--base-url", metavar="URL", help="OpenAI-compatible base URL (env TRIAGE_LLM_BASE_URL)")
    p.add_argument("--limit", type=int, metavar="N", help="at most N transcripts")
    p.add_argument("--concurrency", type=int, default=4, metavar="K", help="parallel requests (default 4)")
    p.add_argument("--only-unlabeled", action="store_true", help="skip transcripts with a final human label")
    p.add_argument("--sample", metavar="ID", help="only the transcripts of this sample, in its order")
    p.add_argument("--max-cost", type=float, metavar="USD", help="stop cleanly when this much is spent")
    p.add_argument("--yes", action="store_true", help="do not ask before spending")
    p.add_argument("--evaluate", action="store_true",
                   help="print the pre-labels' accuracy against blind human labels (changes nothing)")
    p.add_argument("--labeler", choices=["llm", "offline"], help="with --evaluate: which labeler")
    p.add_argument("--batch", action="store_true",
                   help="send through the Batch API (half price, answers within 24 h); exits once "
                   "the batches exist")
    p.add_argument("--batch-status", action="store_true",
                   help="poll the Batch API runs of this --model/--base-url, store finished answers")
    p.set_defaults(func=run)


def _options(args: argparse.Namespace) -> RunOptions:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if args.max_cost is not None and args.max_cost < 0:
        raise UsageError("--max-cost must not be negative")
    return RunOptions(offline=args.offline, limit=args.limit, concurrency=args.concurrency,
                      only_unlabeled=args.only_unlabeled, sample_id=args.sample,
                      max_cost=args.max_cost)


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    db = reading_database(settings)
    taxonomy = load_taxonomy(get_setting(db, "active_taxonomy"))
    result = evaluate_prelabels(db, taxonomy, args.labeler)
    if result is None:
        print("nothing to evaluate yet: no transcript has both a pre-label and a final human label "
              "made with the pre-label hidden")
        return 0
    print(evaluation_table(result))
    return 0


def _confirmed(plan: RunPlan, args: argparse.Namespace) -> bool:
    if plan.est_cost <= 0 or args.yes:
        return True
    if not sys.stdin.isatty():
        print(f"error: this run would cost about ${plan.est_cost:.4f}; no terminal to ask: "
              "re-run with --yes (and --max-cost to cap it)", file=sys.stderr)
        return False
    reply = input(f"Spend about ${plan.est_cost:.4f}? [y/N] ").strip().lower()
    return reply in ("y", "yes")


def _progress_bar(summary: RunSummary) -> str:
    filled = int(30 * summary.processed / max(1, summary.planned))
    return (f"\r[{'#' * filled}{'.' * (30 - filled)}] {summary.processed}/{summary.planned} "
            f"failed {summary.n_failed} ${summary.cost_usd:.4f}")


def _follow(job: PrelabelJob) -> RunSummary:
    """Draw the job's progress bar until it ends. Ctrl-C stops it cleanly: no new request, the
    answers in flight are stored, and the summary says "interrupted"."""
    shown = ""
    while True:
        try:
            ended = job.wait(PROGRESS_SECONDS)
            bar = _progress_bar(job.progress().summary)
            if bar != shown:
                print(bar, end="", file=sys.stderr, flush=True)
                shown = bar
        except KeyboardInterrupt:
            job.stop("interrupted")
            continue
        if ended:
            return job.result()


def _exit_code(summary: RunSummary) -> int:
    """0 all done; 1 some failed or the run ended early but others were labeled; 2 none."""
    incomplete = bool(summary.n_failed or summary.stopped)
    if incomplete and not summary.done:
        return 2
    return 1 if incomplete else 0


def _batch_exit(summary: BatchSummary, checking: bool) -> int:
    """0 once the batches exist (--batch) or the check ran (--batch-status); 1 when requests
    failed after their retry, or Ctrl-C ended it early (what is recorded resumes next time)."""
    return 1 if summary.stopped or (checking and summary.n_failed) else 0


def _run_batch(args: argparse.Namespace, settings: Settings, db, taxonomy, options) -> int:
    checking = args.batch_status
    if checking:
        job = PrelabelJob.check_batches(db, settings, taxonomy)
    else:
        plan = plan_batch(db, settings, taxonomy, options)
        for line in describe_plan(plan, options):
            print(line)
        if plan.items and not _confirmed(plan, args):
            return 2
        job = PrelabelJob.start_batch(db, settings, taxonomy, plan, options)
    summary = _follow(job)
    print(file=sys.stderr)
    for line in batch_lines(summary):
        print(line)
    return _batch_exit(summary, checking)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Plan, show the estimate, confirm when it costs money, run with a progress bar, summarise."""
    if args.evaluate:
        return _evaluate(args, settings)
    if args.batch and args.batch_status:
        raise UsageError("--batch sends, --batch-status checks: give one of them")
    # --base-url comes from the same person as the environment's key: the key goes with it.
    settings = dataclasses.replace(settings, llm_model=args.model or settings.llm_model,
                                   llm_base_url=args.base_url or settings.llm_base_url,
                                   key_base_url=args.base_url or settings.key_base_url)
    options = _options(args)
    db = connect(settings.db_path)
    taxonomy = load_taxonomy(get_setting(db, "active_taxonomy"))
    register_taxonomy(db, taxonomy)
    if args.batch or args.batch_status:
        return _run_batch(args, settings, db, taxonomy, options)
    plan = plan_run(db, settings, taxonomy, options)
    for line in describe_plan(plan, options):
        print(line)
    if not plan.items:
        return 0
    if not _confirmed(plan, args):
        return 2
    summary = _follow(PrelabelJob.start(db, settings, taxonomy, plan, options))
    print(file=sys.stderr)
    for line in summary_lines(summary):
        print(line)
    return _exit_code(summary)
