"""`triage snapshot`: write the analysts' snapshot now (when no app holds the database)."""

from __future__ import annotations

import argparse

from core.cli.common import add_command
from core.config import Settings
from core.errors import DatabaseLocked, NotFound, SnapshotHeld
from core.store.connection import connect
from core.store.snapshot import write_snapshot


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "snapshot",
        "Write <name>.snapshot.duckdb beside the database for analysts (DuckDB 1.5+ readable). "
        "While the app runs it keeps the snapshot fresh itself.",
        "triage --db team.duckdb snapshot")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.db_path.exists():
        raise NotFound(f"no database at {settings.db_path}: import transcripts first")
    try:
        db = connect(settings.db_path)
    except DatabaseLocked as e:
        raise SnapshotHeld(e.path, e.holder) from e
    try:
        info = write_snapshot(db)
    finally:
        db.close()
    print(f"wrote {info.path} ({info.size_bytes / 1e6:.1f} MB in {info.seconds:.1f} s)")
    return 0
