"""The analysts' snapshot: a copy of the live database beside it (`<name>.snapshot.duckdb`)
that any process may open while the app holds the live file. Written atomically (temp file in
the same folder, then rename) in a storage version the DuckDB 1.5 CLI reads."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.config import snapshot_path_for
from core.errors import DatabaseError
from core.store.connection import Database, refreshing_marker

log = logging.getLogger("triage.snapshot")

# The oldest storage format among the readers we promise: PyPI's duckdb-cli 1.5.x.
STORAGE_VERSION = "v1.5.0"
_ALIAS = "triage_snapshot_out"
_write_lock = threading.Lock()


@dataclass(frozen=True)
class SnapshotInfo:
    """A written snapshot: where, when (epoch seconds), how long it took, how big it is."""

    path: Path
    written_at: float
    seconds: float
    size_bytes: int


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_snapshot(db: Database, dest: Path | None = None) -> SnapshotInfo:
    """Copy every table and view of `db` into the snapshot file, atomically.
    Runs on the caller's connection (the one process that may open the live file)."""
    dest = Path(dest) if dest else snapshot_path_for(db.path)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    start = time.perf_counter()
    with _write_lock:  # one ATTACH alias per process: serialise writers
        for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
            stale.unlink(missing_ok=True)
        con = db.con
        live = con.execute("SELECT current_database()").fetchone()[0]
        try:
            con.execute(f"ATTACH {_sql_literal(str(tmp))} AS {_ALIAS} "
                        f"(STORAGE_VERSION '{STORAGE_VERSION}')")
            try:
                con.execute(f'COPY FROM DATABASE "{live}" TO {_ALIAS}')
            finally:
                con.execute(f"DETACH {_ALIAS}")
            os.replace(tmp, dest)
        except Exception as e:
            tmp.unlink(missing_ok=True)
            raise DatabaseError(f"could not write the snapshot {dest}: {e}") from e
    return SnapshotInfo(dest, time.time(), time.perf_counter() - start, dest.stat().st_size)


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table of a database (and archived transcripts): what a snapshot must match to
    be current. Labels, pre-labels, settings and admin actions are appended, never updated; the
    one update (archiving) also writes the admin log, so counts tell any change apart."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT temporary ORDER BY 1").fetchall()]
    if not names:
        return {}
    parts = [f"SELECT {_sql_literal(n)}, count(*) FROM \"{n.replace(chr(34), chr(34) * 2)}\""
             for n in names]
    if "transcripts" in names:
        parts.append("SELECT 'transcripts.archived', count(*) FROM transcripts WHERE archived")
    return dict(con.execute(" UNION ALL ".join(parts)).fetchall())


def snapshot_is_current(db: Database) -> bool:
    """Whether the snapshot beside `db` exists and holds what the live database holds."""
    snap = snapshot_path_for(db.path)
    if not snap.exists():
        return False
    try:
        with duckdb.connect(str(snap), read_only=True) as copy:
            return table_counts(copy) == table_counts(db.con)
    except duckdb.Error:  # unreadable, half-written by a crash, another storage version
        log.info("snapshot %s unreadable: rewriting it", snap, exc_info=True)
        return False


def write_missing_snapshot(db: Database) -> SnapshotInfo | None:
    """Write the snapshot when there is none (`triage app` before its server starts, so a
    reading command works from the first minute); None when one exists. A stale one is left to
    the server, which refreshes it in the background when it opens the database."""
    if snapshot_path_for(db.path).exists():
        return None
    return write_snapshot(db)


def snapshot_age(db_path: Path) -> float | None:
    """Seconds since the snapshot beside `db_path` was written; None when there is none."""
    snap = snapshot_path_for(Path(db_path))
    if not snap.exists():
        return None
    return max(0.0, time.time() - snap.stat().st_mtime)


class SnapshotScheduler:
    """Keeps the snapshot up to date with the live database. A write marks it behind and arms a
    timer for the rest of the interval (at most one refresh every `interval()` seconds);
    `refresh_now` writes at once (the "Refresh snapshot" button); `ensure_fresh` is what a
    reader calls: when it returns, every write committed before the call is in the snapshot.

    One check-or-write runs at a time (`_refreshing`): a reader that arrives while a refresh
    runs in the background (the app's start-up check, a timer) waits for it and then finds the
    snapshot current, instead of reading the file that refresh is about to replace."""

    def __init__(self, db: Database, interval: Callable[[], float]) -> None:
        self.db = db
        self.interval = interval
        self.last: SnapshotInfo | None = None
        self.last_error: str | None = None
        self.refreshes = 0
        self.failures = 0
        self._writes = 0  # commits seen on `db`
        # How many of those the snapshot holds; None: not known (a snapshot left by an earlier
        # run, or written by another process): compare it with the database before trusting it.
        self._in_snapshot: int | None = None
        self._refreshing = threading.RLock()
        self._timer: threading.Timer | None = None
        self._soon: threading.Timer | None = None  # the refresh_soon one, its marker out
        self._threads: set[threading.Timer] = set()
        self._lock = threading.Lock()

    @property
    def dirty(self) -> bool:
        """True when the snapshot may lack writes: some since it was written, or not known."""
        return self._in_snapshot != self._writes or not snapshot_path_for(self.db.path).exists()

    def mark_dirty(self) -> None:
        """Called after every committed write: schedule a refresh within the interval."""
        with self._lock:
            self._writes += 1
            if self._timer is not None:
                return
            since = time.time() - self.last.written_at if self.last else float("inf")
            self._start(max(0.0, self._interval() - since), self._fire)

    def _start(self, delay: float, run: Callable[[], None]) -> None:
        """Arm the one pending refresh (called with `_lock` held)."""
        self._timer = threading.Timer(delay, run)
        self._timer.daemon = True
        self._threads.add(self._timer)
        self._timer.start()

    def _interval(self) -> float:
        try:
            return float(self.interval())
        except Exception:  # a broken setting must not stop labeling
            log.exception("snapshot_interval unreadable; using 30 s")
            return 30.0

    def _fire(self, refresh: Callable[[], SnapshotInfo | None] | None = None) -> None:
        from core.store.sandbox import keep_shared_file_current

        with self._lock:
            if self._timer is threading.current_thread():
                self._timer = None
        try:
            info = (refresh or self.ensure_fresh)()
            if info is not None:
                keep_shared_file_current(info.path)  # here, in the background, not in a query
        except Exception as e:  # logged and shown on the SQL page; writes go on
            self.last_error = str(e)
            self.failures += 1
            log.exception("snapshot refresh failed")
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())  # type: ignore[arg-type]
                if self._soon is threading.current_thread():
                    self._soon = None
                    self._unmark()

    def _marker(self) -> Path:
        return refreshing_marker(snapshot_path_for(self.db.path))

    def _unmark(self) -> None:
        self._marker().unlink(missing_ok=True)

    def refresh_now(self) -> SnapshotInfo:
        """Write the snapshot now; the writes so far are then in it."""
        with self._refreshing:
            with self._lock:
                seen = self._writes
            info = write_snapshot(self.db)
            with self._lock:
                self._in_snapshot = seen  # a write during the copy keeps it dirty
            self.last, self.last_error = info, None
            self.refreshes += 1
            return info

    def ensure_fresh(self) -> SnapshotInfo | None:
        """Bring the snapshot up to date before reading it: wait for a refresh under way, then
        check a snapshot not known to be current (table counts, milliseconds) and write it when
        it is missing or behind. The written snapshot; None when it was current."""
        with self._refreshing:
            with self._lock:
                seen, known = self._writes, self._in_snapshot
            if not self.dirty:
                return None
            if known is None and snapshot_is_current(self.db):
                with self._lock:
                    self._in_snapshot = seen
                return None
            return self.refresh_now()

    def refresh_soon(self, only_if_stale: bool = False) -> None:
        """Refresh in a background thread now, not after the interval: when the app starts on
        a database (`only_if_stale`: the snapshot found there is checked and a current one left
        alone, so a restart costs nothing) and after an import. The caller does not wait; a
        reader meanwhile waits in `ensure_fresh`, and a reading command in another process
        (`triage report`) while the marker file with this PID is there (core/store/connection)."""
        marker = self._marker()
        tmp = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
        tmp.write_text(str(os.getpid()))
        os.replace(tmp, marker)  # whole or absent: a reader never reads half a PID
        with self._lock:
            if only_if_stale:
                self._in_snapshot = None  # not known until checked
            if self._timer is not None:  # this refresh replaces the one that was pending
                self._timer.cancel()
                self._threads.discard(self._timer)
            self._start(0, self._fire if only_if_stale else lambda: self._fire(self.refresh_now))
            self._soon = self._timer

    def cancel(self) -> None:
        """Drop a pending refresh and wait for a running one (before closing the database)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            threads = list(self._threads)
        for t in threads:
            t.cancel()
            if t is not threading.current_thread():
                t.join()
        with self._lock:
            if self._soon is not None:  # cancelled before it ran: its marker goes with it
                self._soon = None
                self._unmark()


def install_scheduler(db: Database, interval: Callable[[], float] | None = None) -> SnapshotScheduler:
    """Refresh the snapshot after every committed write on `db` (the app calls this once)."""
    if (installed := scheduler_for(db)) is not None:
        return installed
    if interval is None:
        from core.store.settings import get_setting

        def interval() -> float:
            return float(get_setting(db, "snapshot_interval"))

    scheduler = SnapshotScheduler(db, interval)
    db.after_commit.append(scheduler.mark_dirty)
    return scheduler


def refresh_soon(db: Database) -> None:
    """After an import in the app: refresh the snapshot now, in the background (a database
    without the app's scheduler, e.g. the CLI's, is left to its caller)."""
    if (scheduler := scheduler_for(db)) is not None:
        scheduler.refresh_soon()


def scheduler_for(db: Database) -> SnapshotScheduler | None:
    """The scheduler installed on `db`, if any. It is found through the database's own hooks,
    not a registry, so a database nobody uses any more can be freed with its scheduler."""
    for hook in db.after_commit:
        if isinstance(owner := getattr(hook, "__self__", None), SnapshotScheduler):
            return owner
    return None
