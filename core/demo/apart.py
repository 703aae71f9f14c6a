"""Where the demo lives: a database of its own, `triage-demo.duckdb` beside the default
database. `triage app` without --db or TRIAGE_DB opens the team's default database once anyone
has used it, and the demo until then; an admin starts the team's own database from the app
(Home, Import) or from the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.errors import DatabaseLocked, UsageError
from core.store.admin import log_admin_action
from core.store.connection import connect
from core.store.demo_rows import demo_counts, holds_anything

DEMO_DB_NAME = "triage-demo.duckdb"
TEAM_DB_NAME = Settings.db_path.name  # the default database, `triage.duckdb`


def demo_db_path(default_db: Path) -> Path:
    """The demo's database: beside the default one."""
    return Path(default_db).with_name(DEMO_DB_NAME)


def team_db_path(demo_db: Path) -> Path:
    """The team's database a demo database points to: the default one beside it."""
    return Path(demo_db).with_name(TEAM_DB_NAME)


def database_in_use(path: Path) -> bool:
    """Whether the database at `path` exists and someone has used it (transcripts, settings,
    admin actions). A database another process holds is in use."""
    if not Path(path).exists():
        return False
    try:
        db = connect(path, read_only=True)
    except DatabaseLocked:
        return True
    try:
        return holds_anything(db)
    finally:
        db.close()


@dataclass(frozen=True)
class AppDatabase:
    """The database `triage app` serves, and whether it is the demo's own."""

    path: Path
    demo: bool


def app_database(settings: Settings) -> AppDatabase:
    """--db / TRIAGE_DB when given; else the default database once it is in use; else the
    demo's database beside it (the demo is loaded into it on first start)."""
    if settings.db_given or database_in_use(settings.db_path):
        return AppDatabase(settings.db_path, False)
    return AppDatabase(demo_db_path(settings.db_path), True)


def demo_target(settings: Settings) -> Path:
    """Where `triage demo` loads the demo: --db / TRIAGE_DB, else the demo's own database."""
    return settings.db_path if settings.db_given else demo_db_path(settings.db_path)


def start_team_database(path: Path, user: str, demo_path: Path | None = None) -> Path:
    """Create (or reuse) the team's database at `path`, migrated, with the start recorded in its
    admin log, so `triage app` opens it from now on. UsageError when it holds the demo."""
    db = connect(path)
    try:
        counts = demo_counts(db)
        if counts.demo:
            raise UsageError(
                f"{path} holds the bundled demo ({counts.demo} transcripts), made by an earlier "
                f"version of Triage: delete it there first (`triage --db {path} demo --remove`), "
                "or start a database under another name (`triage --db mine.duckdb app`).")
        if not holds_anything(db):
            log_admin_action(db, "start_database", str(path),
                             {"from_demo": str(demo_path) if demo_path else None}, user)
    finally:
        db.close()
    return Path(path)
