"""`triage annotations import PATH`: human labels from CSV or JSONL."""

from __future__ import annotations

import argparse

from core.cli.common import add_command, refresh_snapshot
from core.config import Settings
from core.ingest.labels import import_labels
from core.store.connection import connect


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "annotations", "Import human labels made elsewhere.",
                    "triage annotations import labels.csv")
    asub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = add_command(
        asub, "import",
        "Import labels from CSV/JSONL (transcript_id, annotator, primary_label, optional "
        "secondary_labels as a JSON array, context_present, severity, note, created_at). "
        "With a source column, transcript_id is the record's own id within that source.",
        "triage annotations import labels.csv --rejects bad_labels.jsonl")
    imp.add_argument("path", metavar="PATH", help="CSV or JSONL file of labels")
    imp.add_argument("--format", choices=("auto", "csv", "jsonl", "json"), default="auto")
    imp.add_argument("--rejects", metavar="FILE",
                     help="where rejected rows go (default <db folder>/rejects/annotations-<id>.jsonl)")
    imp.set_defaults(func=run_import)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    db = connect(settings.db_path)
    try:
        result = import_labels(db, args.path, fmt=args.format, rejects=args.rejects)
        refresh_snapshot(db)
    finally:
        db.close()
    print("\n".join(result.summary()))
    return result.exit_code
