"""`triage report`: the verdict and its evidence as JSON, HTML, Markdown or PDF."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from core.cli.common import acting_user, add_command, reading_database
from core.config import Settings
from core.errors import UsageError
from core.labels.visibility import viewer_for
from core.report.build import build_report
from core.report.pdf import html_to_pdf, require_browser
from core.report.render import render_html, render_markdown
from core.store.settings import get_setting
from core.taxonomy import load_taxonomy

FORMATS = ("json", "html", "md", "pdf")


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "report", "The triage report: verdict, shares with 95% intervals, "
                    "readiness, agreement, slices (JSON on stdout by default).",
                    "triage report --format html --output report.html")
    p.add_argument("--format", choices=FORMATS, default="json", help="output format (default json)")
    p.add_argument("--output", metavar="FILE", help="write to FILE (required for pdf; default stdout)")
    p.add_argument("--random-only", action="store_true",
                   help="only transcripts whose labels all came from the random queue")
    p.add_argument("--slice", metavar="FIELD", nargs="+", default=[], dest="slices",
                   help="fields to slice by: source or metadata keys, e.g. --slice source channel")
    p.add_argument("--population", action=argparse.BooleanOptionalAction, default=None,
                   help="the population estimate (prediction-powered inference from the random "
                        "human sample and pre-labels on every transcript); default: on when every "
                        "transcript in scope has a pre-label from one labeler")
    p.add_argument("--generated-at", metavar="ISO",
                   help="timestamp printed as 'generated' (for reproducible exports)")
    p.set_defaults(func=run)


def _generated_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as e:
        raise UsageError(f"--generated-at: {value!r} is not an ISO date-time "
                         "(e.g. 2026-03-01T12:00:00)") from e


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build the report from the database (or its snapshot) and write it in the chosen format."""
    if args.format == "pdf":
        if not args.output:
            raise UsageError("--format pdf needs --output FILE (a PDF is not written to a terminal)")
        require_browser()  # fail before the work, naming what to install
    when = _generated_at(args.generated_at)
    db = reading_database(settings)
    taxonomy = load_taxonomy(get_setting(db, "active_taxonomy"))
    report = build_report(db, taxonomy, random_only=args.random_only,
                          slice_fields=args.slices, generated_at=when, population=args.population,
                          viewer=viewer_for(db, acting_user(settings)))
    pop = report.population
    if args.population and pop is not None and pop.method == "human-only":
        print(f"note: no population estimate: {pop.reason}", file=sys.stderr)
    if args.format == "json":
        text: str | bytes = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    elif args.format == "md":
        text = render_markdown(report, taxonomy)
    else:
        text = render_html(report, taxonomy)
        if args.format == "pdf":
            text = html_to_pdf(text)
    _write(text, args.output)
    return 0


def _write(content: str | bytes, output: str | None) -> None:
    if output is None:
        sys.stdout.write(content if isinstance(content, str) else content.decode())
        return
    path = Path(output)
    if path.is_dir():
        raise UsageError(f"--output {output} is a folder; give a file name, e.g. {path / 'report.html'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)
