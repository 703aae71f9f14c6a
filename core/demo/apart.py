"""Where the demo lives: a database of its own, `triage-demo.duckdb` beside the default
database. `triage app` without --db or TRIAGE_DB opens the team's default database once anyone
has used it, and the demo until then; an admin starts the team's own database from the app
(Home, Import) or from the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.errors import AppAlreadyRunning, DatabaseLocked, UsageError
from core.store.admin import log_admin_action
from core.store.connection import Database, connect
from core.store.demo_rows import demo_counts, holds_anything
from core.store.snapshot import write_missing_snapshot
from core.store.transcripts import count_transcripts
from core.taxonomy import load_taxonomy

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


def open_for_app(settings: Settings, demo: bool = False) -> tuple[Database, str]:
    """Take the database for the app (kept open: the lock is held from here until the server
    stops), load the demo when it is the demo's own, write a missing snapshot; the database
    and what happened, in one line. AppAlreadyRunning when another process holds the file."""
    try:
        db = connect(settings.db_path)
    except DatabaseLocked as e:
        raise AppAlreadyRunning(str(settings.db_path), e.holder) from e
    try:
        if demo:
            # Here, not at the top: the pages import this module (core/ui.py) for the team
            # database offer, and the demo's loader pulls in the import pipeline (pyarrow).
            from core.demo.load import load_demo

            loaded = load_demo(db, load_taxonomy("default"))
            head = loaded.message() if loaded.loaded else "The demo is loaded."
            said = (f"{head} Opening the demo ({settings.db_path.resolve()}). Your own data goes "
                    "in a database of its own: `triage import FILE` (./triage.duckdb), then "
                    "`triage app` opens it.")
        else:
            said = f"Opening {settings.db_path} ({count_transcripts(db)} transcripts)."
        write_missing_snapshot(db)  # analysts from minute one; the server keeps it fresh
    except BaseException:
        db.close()
        raise
    return db, said
