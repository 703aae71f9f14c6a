"""The `triage` command: global options, one subcommand per module in core/cli/,
errors mapped to exit codes (0 done, 1 done with rejects, 2 nothing applied)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from core.config import Settings, load_settings
from core.errors import TriageError
from core.logs import setup_logging

log = logging.getLogger("triage.cli")

# Each module has register(subparsers) that adds its parser(s) with set_defaults(func=run),
# where run(args, settings) -> exit code. Imported lazily: `triage X` imports X's module only
# (importing all of them took ~4 s at start: sklearn, openai, ...); help lists them all.
COMMAND_MODULES = ["app_cmd", "import_cmd", "annotations_cmd", "sample_cmd", "prelabel_cmd",
                   "report_cmd", "plan_cmd", "export_cmd", "snapshot_cmd", "config_cmd",
                   "discover_cmd", "taxonomy_cmd"]
# The subcommand names each module registers.
COMMANDS = {"app": "app_cmd", "demo": "app_cmd", "import": "import_cmd",
            "annotations": "annotations_cmd", "sample": "sample_cmd", "prelabel": "prelabel_cmd",
            "report": "report_cmd", "plan": "plan_cmd", "export": "export_cmd",
            "snapshot": "snapshot_cmd", "config": "config_cmd", "discover": "discover_cmd",
            "taxonomy": "taxonomy_cmd"}
_GLOBAL_WITH_VALUE = ("--db", "--user")

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


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in argv (after the global options), or None."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command-line interface; `only`: a known subcommand, then only its module is
    imported and registered (the rest of the interface is left out)."""
    parser = _Parser(
        prog="triage", description="Failure-mode triage for LLM products.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", metavar="PATH", help="DuckDB file (env TRIAGE_DB, default ./triage.duckdb)")
    parser.add_argument("--user", metavar="NAME", help="who is acting (env TRIAGE_USER)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    names = [COMMANDS[only]] if only in COMMANDS else COMMAND_MODULES
    for name in names:
        importlib.import_module(f"core.cli.{name}").register(sub)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Parse, build Settings, run the command; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_in(argv))
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
