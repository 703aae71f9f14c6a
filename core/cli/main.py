"""The `triage` command: global options, one subcommand per module in core/cli/,
errors mapped to exit codes (0 done, 1 done with rejects, 2 nothing applied)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from core.cli import (
    annotations_cmd,
    app_cmd,
    config_cmd,
    discover_cmd,
    export_cmd,
    import_cmd,
    plan_cmd,
    prelabel_cmd,
    report_cmd,
    sample_cmd,
    snapshot_cmd,
    taxonomy_cmd,
)
from core.config import Settings, load_settings
from core.errors import TriageError
from core.logs import setup_logging

log = logging.getLogger("triage.cli")

# Each module has register(subparsers) that adds its parser(s) with set_defaults(func=run),
# where run(args, settings) -> exit code.
COMMAND_MODULES = [app_cmd, import_cmd, annotations_cmd, sample_cmd, prelabel_cmd, report_cmd, plan_cmd,
                   export_cmd, snapshot_cmd, config_cmd, discover_cmd, taxonomy_cmd]

EPILOG = """examples:
  triage app                          open the app (the demo, in its own file, until you have data)
  triage --db team.duckdb import logs.jsonl --source prod
  triage sample --n 300 --seed 7
  triage report --format html --output report.html
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2, as PRODUCT.md says
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The whole command-line interface."""
    parser = _Parser(
        prog="triage", description="Failure-mode triage for LLM products.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", metavar="PATH", help="DuckDB file (env TRIAGE_DB, default ./triage.duckdb)")
    parser.add_argument("--user", metavar="NAME", help="who is acting (env TRIAGE_USER)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Parse, build Settings, run the command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    settings: Settings = load_settings(db_path=args.db, user=args.user)
    setup_logging(settings.resolved_log_path, settings.log_level)
    try:
        return int(args.func(args, settings))
    except TriageError as e:
        log.info("command failed: %s", e, exc_info=True)
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 2
    except Exception as e:  # a bug: the user gets one line, the log gets the traceback
        log.exception("unexpected error in %s", args.command)
        print(f"error: unexpected {type(e).__name__}: {e} (details in {settings.resolved_log_path})",
              file=sys.stderr)
        return 2


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
