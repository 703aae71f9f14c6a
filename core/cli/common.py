"""Helpers shared by CLI commands."""

from __future__ import annotations

import argparse
import getpass
import sys

from core.config import Settings
from core.errors import TriageError
from core.store.connection import Database, connect_for_reading
from core.store.snapshot import write_snapshot


def add_command(sub: argparse._SubParsersAction, name: str, help: str, example: str,
                **kwargs: object) -> argparse.ArgumentParser:
    """A subcommand parser whose --help ends with an example."""
    # argparse %-formats a subcommand's help in the parent's listing (not its description).
    return sub.add_parser(name, help=help.replace("%", "%%"), description=help,
                          epilog=f"example:\n  {example}",
                          formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)


def acting_user(settings: Settings) -> str:
    """Who the CLI records as the actor: --user / TRIAGE_USER, else the login name."""
    if settings.user:
        return settings.user
    try:
        return getpass.getuser()
    except Exception:
        return "cli"


def reading_database(settings: Settings) -> Database:
    """Open the database to read; when another process holds it, the snapshot, and say so on
    stderr (stdout stays the command's output, for scripts)."""
    handle = connect_for_reading(settings.db_path, lambda note: print(note, file=sys.stderr))
    if handle.notice():
        print(handle.notice(), file=sys.stderr)
    return handle.db


def refresh_snapshot(db: Database) -> None:
    """After an import: the analysts' snapshot gets the new rows now, not at the app's next
    start. Said on stderr (stdout is the command's output); a failure is a warning, since the
    import itself is committed."""
    try:
        info = write_snapshot(db)
    except TriageError as e:
        print(f"warning: {e}; `triage snapshot` retries", file=sys.stderr)
        return
    print(f"snapshot: wrote {info.path.name} ({info.size_bytes / 1e6:.1f} MB in "
          f"{info.seconds:.1f} s)", file=sys.stderr)
