"""`triage import [PATH]`: transcripts from JSONL, a JSON array, CSV, Parquet or a trace file
(OTLP JSON, Langfuse, LangSmith, OpenAI Responses); or `--from langfuse|langsmith`: a live
pull of the traces newer than the last pull's watermark."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from core.cli.common import acting_user, add_command, refresh_snapshot
from core.config import Settings
from core.errors import UsageError
from core.ingest.pipeline import DEFAULT_SOURCE, import_file
from core.ingest.pulls import SYSTEMS, PullRequest, pull
from core.ingest.readers import FORMATS, GROUP_BY, parse_mapping
from core.ingest.traces.clients import PullFilters
from core.store.connection import connect


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "import", "Import transcripts (JSONL, JSON array, CSV, Parquet, or traces: OTLP "
                       "JSON, Langfuse, LangSmith, OpenAI Responses) as one batch, or pull "
                       "traces live from Langfuse or LangSmith (--from).",
        "triage import tickets.csv --source helpdesk --map id=ticket_id "
        "--map user=question --map assistant=answer --map context=docs")
    p.add_argument("path", metavar="PATH", nargs="?", help="file to import (not with --from)")
    p.add_argument("--source", metavar="NAME", default=DEFAULT_SOURCE,
                   help="where these logs come from; ids are unique per source, so the same id "
                        "from another source is another transcript (default: %(default)s)")
    p.add_argument("--format", choices=FORMATS, default="auto",
                   help="file format (default: from the extension, else sniffed)")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", dest="mapping",
                   help="column holding a record field: id, messages, system, user, assistant, "
                        "context, metadata, tools (repeatable); other columns become metadata")
    p.add_argument("--rejects", metavar="FILE",
                   help="where rejected rows go (default <db folder>/rejects/<batch_id>.jsonl)")
    p.add_argument("--group-by", choices=GROUP_BY, default="trace",
                   help="traces: one transcript per trace, or per session (traces sharing "
                        "gen_ai.conversation.id / session.id / sessionId / thread_id merged)")
    pulls = p.add_argument_group("live pull (keys from the environment, see docs/traces.md)")
    pulls.add_argument("--from", choices=SYSTEMS, dest="pull_from",
                       help="pull traces from this service instead of reading a file")
    pulls.add_argument("--since", metavar="TIME", type=_utc,
                       help="only traces from this time on (ISO 8601, UTC unless an offset is "
                            "given); later than the watermark wins")
    pulls.add_argument("--until", metavar="TIME", type=_utc,
                       help="only traces that started before this time (default: 5 minutes ago)")
    pulls.add_argument("--tag", action="append", default=[], metavar="TAG",
                       help="only traces with this tag (repeatable: all must match)")
    pulls.add_argument("--name", metavar="NAME", help="only traces with this name")
    pulls.add_argument("--limit", type=int, metavar="N",
                       help="import at most N traces, the oldest first")
    pulls.add_argument("--project", metavar="NAME",
                       help="LangSmith project (default: LANGSMITH_PROJECT)")
    pulls.add_argument("--filter", metavar="EXPR", dest="expression",
                       help="LangSmith filter expression, as in its API, e.g. 'eq(error, true)'")
    pulls.add_argument("--full", action="store_true",
                       help="ignore the watermark: read the whole window again (stored traces "
                            "count as duplicates)")
    p.set_defaults(func=run)


def _utc(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time, e.g. "
                                         "2026-03-01 or 2026-03-01T12:00:00Z") from e
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


class _Bar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.drawn = False

    def __call__(self, fraction: float, rows: int) -> None:
        if not self.enabled:
            return
        filled = int(30 * min(fraction, 1.0))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {rows:,} rows")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()
            self.drawn = False


def _pull(args: argparse.Namespace, settings: Settings) -> int:
    if args.path or args.mapping or args.format != "auto":
        raise UsageError("--from pulls from a service: give no PATH, --map or --format")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    request = PullRequest(
        args.pull_from, PullFilters(args.since, tuple(args.tag), args.name, args.expression),
        until=args.until, limit=args.limit, project=args.project or settings.langsmith_project,
        full=args.full, source=args.source, group_by=args.group_by)
    db = connect(settings.db_path)
    try:
        result = pull(db, settings, request, rejects=args.rejects,
                      imported_by=acting_user(settings))
        refresh_snapshot(db)
    finally:
        db.close()
    print("\n".join(result.summary()))
    return result.exit_code


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.pull_from:
        return _pull(args, settings)
    pull_only = [flag for flag, given in (("--since", args.since), ("--until", args.until),
                                          ("--tag", args.tag), ("--name", args.name),
                                          ("--limit", args.limit), ("--project", args.project),
                                          ("--filter", args.expression), ("--full", args.full))
                 if given]
    if pull_only:
        raise UsageError(f"{', '.join(pull_only)}: only with --from langfuse|langsmith")
    if not args.path:
        raise UsageError("give a file to import, or --from langfuse|langsmith to pull traces")
    mapping = parse_mapping(args.mapping)
    db = connect(settings.db_path)
    bar = _Bar()
    try:
        result = import_file(db, args.path, source=args.source, fmt=args.format, mapping=mapping,
                             rejects=args.rejects, imported_by=acting_user(settings), progress=bar,
                             group_by=args.group_by)
        bar.close()
        refresh_snapshot(db)
    finally:
        bar.close()
        db.close()
    print("\n".join(result.summary()))
    return result.exit_code
