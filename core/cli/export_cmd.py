"""`triage export`: tables, an evaluation set, or the tuning seed, to files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.analysts.exports import FORMATS, WHATS, export
from core.cli.common import acting_user, add_command, reading_database
from core.config import Settings
from core.labels.visibility import viewer_for


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "export",
        "Export transcripts, annotations, final labels or pre-labels (csv, jsonl, parquet); "
        "an eval set (dev.jsonl + test.jsonl, stratified by label); or the tuning seed "
        "(OpenAI fine-tuning JSONL from behavior failures with an ideal response). As the CLI "
        "user (--user / TRIAGE_USER, else the login name) may read them: one who labels "
        "transcripts gets no label of an overlap item still waiting for their blind label.",
        "triage export --what eval-set --output evalset/ --test-size 0.5 --seed 0")
    p.add_argument("--what", required=True, choices=WHATS)
    p.add_argument("--format", default="jsonl", choices=FORMATS, dest="fmt",
                   help="file format (default jsonl; eval-set and tuning-seed are jsonl only)")
    p.add_argument("--output", required=True, type=Path, metavar="PATH",
                   help="file to write (a folder for eval-set)")
    p.add_argument("--test-size", type=float, default=0.5,
                   help="eval-set: share of each label that goes to test (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="eval-set: split seed (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    db = reading_database(settings)
    try:
        result = export(db, args.what, args.fmt, args.output, args.test_size, args.seed,
                        viewer_for(db, acting_user(settings)))
    finally:
        db.close()
    for note in result.warnings:
        print(f"warning: {note}", file=sys.stderr)
    if not sum(result.files.values()):
        for path in result.files:  # an empty file would pass for a result in a script
            Path(path).unlink(missing_ok=True)
        print(f"error: nothing to export: no {args.what} rows in {db.path}", file=sys.stderr)
        return 2
    for path, n in result.files.items():
        print(f"wrote {n} rows to {path}")
    return 0
