"""Helpers shared by CLI commands."""

from __future__ import annotations

import argparse
import getpass
import sys

from core.config import Settings
from core.store.connection import Database, connect_for_reading


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
    handle = connect_for_reading(settings.db_path)
    if handle.notice():
        print(handle.notice(), file=sys.stderr)
    return handle.db
