"""Opening the DuckDB file: one writer process, a cursor per thread, clear lock errors,
and the read-only fallback to the analysts' snapshot."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from core.config import snapshot_path_for
from core.errors import DatabaseError, DatabaseLocked, NotFound
from core.store.migrations import migrate

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<exe>.+?) \(PID (?P<pid>\d+)\)")


def utcnow() -> datetime:
    """Naive UTC timestamp, as stored in TIMESTAMP columns."""
    return datetime.now(UTC).replace(tzinfo=None)


def describe_holder(message: str) -> str | None:
    """From DuckDB's lock error, name the holding process: its PID and command line."""
    m = _LOCK_RE.search(message)
    if not m:
        return None
    pid = m.group("pid")
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        cmd = " ".join(p.decode(errors="replace") for p in raw.split(b"\0") if p)
    except OSError:
        cmd = m.group("exe")
    return f"process {pid} ({cmd[:160]})"


class Database:
    """One process-wide DuckDB connection; each thread works through its own cursor.

    Store functions take a Database and run their SQL on `con`, this thread's cursor: inside
    `transaction()` that is the cursor holding the transaction, so a store function called in
    a caller's block writes into it. Nothing outside core/store reaches for `con`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only
        self._local = threading.local()
        # Called after each outermost COMMIT of transaction(), e.g. to refresh the snapshot.
        self.after_commit: list[Callable[[], None]] = []
        # How many transactions this process committed: a cache of what was read (the app's
        # report) is current while it has not changed (every write goes through transaction()).
        self.generation = 0

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the shared connection (for the store's SQL)."""
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cur = cur
        return cur

    @contextmanager
    def transaction(self, memory_limit: str | None = None) -> Iterator[None]:
        """One committed transaction: all of the block, or none of it.

        Re-entrant per thread: a block opened inside another joins it, and only the outermost
        commits (then runs `after_commit`) or rolls back. An inner block that raised spoils
        the whole transaction, even if its caller caught the error: the outermost then rolls
        back and raises DatabaseError, so half a unit of work is never committed.
        `memory_limit` (e.g. "400MB") lowers DuckDB's buffer limit while the outermost block
        runs: a bulk load keeps its uncommitted rows in memory, and a lower limit makes DuckDB
        evict what it can. It is set before BEGIN and reset after the end, because DuckDB
        refuses any statement, RESET too, in a transaction an error aborted."""
        state = self._local
        if getattr(state, "depth", 0):
            yield from self._join(state)
            return
        with self._memory_limit(memory_limit):
            yield from self._outermost(state)

    def _join(self, state: threading.local) -> Iterator[None]:
        state.depth += 1
        try:
            yield
        except BaseException:
            state.spoiled = True
            raise
        finally:
            state.depth -= 1

    def _outermost(self, state: threading.local) -> Iterator[None]:
        con = self.con
        con.execute("BEGIN TRANSACTION")
        state.depth, state.spoiled = 1, False
        try:
            yield
        except BaseException:
            state.depth = 0
            con.execute("ROLLBACK")
            raise
        state.depth = 0
        if state.spoiled:
            con.execute("ROLLBACK")
            raise DatabaseError("a step of this transaction failed, so none of it was saved")
        con.execute("COMMIT")
        self.generation += 1
        for callback in list(self.after_commit):
            callback()

    @contextmanager
    def _memory_limit(self, limit: str | None) -> Iterator[None]:
        if limit is None:
            yield
            return
        # RESET, not the value read before: DuckDB reports it rounded ("18.7 GiB"), and
        # nothing else in Triage sets it.
        self.con.execute(f"SET memory_limit = '{limit}'")
        self._local.memory_limited = True
        try:
            yield
        finally:
            self._local.memory_limited = False
            self.con.execute("RESET memory_limit")

    def adjust_memory_limit(self, limit: str) -> None:
        """Change the limit a `transaction(memory_limit=...)` block set, for the rest of that
        block (it is still reset at its end); does nothing in any other block."""
        if getattr(self._local, "memory_limited", False):
            self.con.execute(f"SET memory_limit = '{limit}'")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_is_duckdb(path: Path) -> None:
    """DatabaseError unless `path` is missing, empty or a DuckDB file: DuckDB would otherwise
    open, say, a JSONL file given by mistake as an empty in-memory database, and every write
    would vanish at exit."""
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file (give --db a .duckdb file)")
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except FileNotFoundError:
        return
    except OSError as e:
        raise DatabaseError(f"cannot open {path}: {e.strerror}") from e
    if head and head[8:12] != b"DUCK":
        raise DatabaseError(f"{path} is not a DuckDB database (did you mean to import it? "
                            "`triage import FILE`; --db names the database file)")


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    _check_is_duckdb(path)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise DatabaseLocked(str(path), describe_holder(str(e))) from e
        raise DatabaseError(f"cannot open {path}: {e}") from e
    except duckdb.Error as e:
        raise DatabaseError(f"cannot open {path}: {e}") from e


def connect(path: Path | str, read_only: bool = False) -> Database:
    """Open (creating and migrating if needed) the database for writing, or read-only.
    Raises DatabaseLocked naming the holder when another process has the file."""
    path = Path(path)
    if read_only and not path.exists():
        raise NotFound(f"no database at {path}: import transcripts first (`triage import`)")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only)
    if not read_only:
        migrate(con)
    return Database(con, path, read_only)


# How long a reading command waits for the app's refresh of the snapshot before reading it.
REFRESH_WAIT = 120.0


def refreshing_marker(snapshot: Path) -> Path:
    """The file saying that the app holding the database is bringing `snapshot` up to date (it
    started on a database with writes the snapshot lacks, or imported): its PID inside."""
    return snapshot.with_name(f".{snapshot.name}.refreshing")


def refresher(snapshot: Path, holder: int | None = None) -> int | None:
    """The PID of the live process refreshing `snapshot` now; None when there is none (a
    marker left by a process that died is no refresh, nor one by another process than the
    `holder` of the database, when known: a PID reused since)."""
    try:
        pid = int(refreshing_marker(snapshot).read_text().strip())
    except (OSError, ValueError):
        return None
    if holder is not None and pid != holder:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        pass
    return pid


def wait_for_refresh(snapshot: Path, say: Callable[[str], None], holder: int | None = None,
                     timeout: float = REFRESH_WAIT) -> bool:
    """Wait while the app (the database's `holder`) refreshes `snapshot`, saying so once;
    False when it still ran after `timeout` seconds."""
    if refresher(snapshot, holder) is None:
        return True
    say(f"note: the app holding the database is bringing the snapshot {snapshot.name} up to "
        f"date; waiting for it (at most {timeout:.0f} s)")
    deadline = time.monotonic() + timeout
    while refresher(snapshot, holder) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass(frozen=True)
class ReadHandle:
    """A read-only database, and where it came from (the live file or the snapshot)."""

    db: Database
    from_snapshot: bool
    age_seconds: float | None
    behind: bool = False  # the app's refresh of the snapshot was still running when read

    def notice(self) -> str | None:
        """What a reading command prints when it fell back to the snapshot."""
        if not self.from_snapshot:
            return None
        return (
            f"note: the database is held by another process; reading the snapshot "
            f"{self.db.path} ({format_age(self.age_seconds or 0)} old)"
            + (f"; the app was still bringing it up to date after {REFRESH_WAIT:.0f} s, so "
               "it may lack the latest writes" if self.behind else "")
        )


def format_age(seconds: float) -> str:
    """'42 s', '7 min', '3.5 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def connect_for_reading(path: Path | str,
                        say: Callable[[str], None] = lambda _: None) -> ReadHandle:
    """Open the database read-only; if another process holds it, fall back to the snapshot,
    once the app's refresh of it under way (if any) is done (`say` tells the wait).
    Raises DatabaseLocked when it is held and there is no snapshot either."""
    path = Path(path)
    try:
        return ReadHandle(connect(path, read_only=True), False, None)
    except DatabaseLocked as locked:
        snap = snapshot_path_for(path)
        holder = re.match(r"process (\d+) ", locked.holder or "")  # describe_holder's words
        done = wait_for_refresh(snap, say, int(holder.group(1)) if holder else None)
        if not snap.exists():
            raise DatabaseLocked(
                str(path), locked.holder, f"and there is no snapshot ({snap.name}) to read yet"
            ) from locked
        age = time.time() - snap.stat().st_mtime
        return ReadHandle(connect(snap, read_only=True), True, age, not done)
