"""`triage import PATH`: transcripts from JSONL, a JSON array, CSV or Parquet."""

from __future__ import annotations

import argparse
import sys

from core.cli.common import acting_user, add_command
from core.config import Settings
from core.ingest.pipeline import DEFAULT_SOURCE, import_file
from core.ingest.readers import FORMATS, parse_mapping
from core.store.connection import connect


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "import", "Import transcripts (JSONL, JSON array, CSV or Parquet) as one batch.",
        "triage import tickets.csv --source helpdesk --map id=ticket_id "
        "--map user=question --map assistant=answer --map context=docs")
    p.add_argument("path", metavar="PATH", help="file to import")
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
    p.set_defaults(func=run)


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


def run(args: argparse.Namespace, settings: Settings) -> int:
    mapping = parse_mapping(args.mapping)
    db = connect(settings.db_path)
    bar = _Bar()
    try:
        result = import_file(db, args.path, source=args.source, fmt=args.format, mapping=mapping,
                             rejects=args.rejects, imported_by=acting_user(settings), progress=bar)
    finally:
        bar.close()
        db.close()
    print("\n".join(result.summary()))
    return result.exit_code
