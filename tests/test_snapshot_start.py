"""Analysts from minute one (issue 14, point 6): the app writes the snapshot when it starts on a
database (in the background, only when missing or behind) and after every import, so
`triage report` works while the app runs before anyone saves a label."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import duckdb

from core.config import snapshot_path_for
from core.store import snapshot
from core.store.connection import connect, refreshing_marker
from core.store.snapshot import SnapshotScheduler, snapshot_is_current, write_snapshot
from tests.conftest import ROOT, add_transcripts, make_record
from tests.team_helpers import team_database


def _finish(scheduler: SnapshotScheduler) -> None:
    """Wait for the background refresh (cancel joins a running one and drops none pending)."""
    with scheduler._lock:
        threads = list(scheduler._threads)
    for t in threads:
        t.join(60)


def test_refresh_soon_writes_a_missing_snapshot_and_leaves_a_current_one(db):
    add_transcripts(db, [make_record(i) for i in range(3)])
    scheduler = SnapshotScheduler(db, lambda: 30)
    assert not snapshot_is_current(db)
    scheduler.refresh_soon(only_if_stale=True)
    _finish(scheduler)
    assert scheduler.refreshes == 1 and snapshot_is_current(db)
    scheduler.refresh_soon(only_if_stale=True)  # a restart on an unchanged database: nothing
    _finish(scheduler)
    assert scheduler.refreshes == 1
    add_transcripts(db, [make_record(9)])  # a write (outside the app) makes it stale
    assert not snapshot_is_current(db)
    scheduler.refresh_soon(only_if_stale=True)
    _finish(scheduler)
    assert scheduler.refreshes == 2 and snapshot_is_current(db)
    scheduler.mark_dirty()  # the timer machinery still works after a skipped refresh
    assert scheduler._timer is not None
    scheduler.cancel()


def test_a_query_during_the_start_up_refresh_waits_for_it_and_reads_every_write(db):
    """The race of issue 15: the app starts on a snapshot behind the database and checks it in
    the background; a query at once (SQL page) must not read the file about to be replaced."""
    add_transcripts(db, [make_record(i) for i in range(3)])
    write_snapshot(db)
    add_transcripts(db, [make_record(9)])  # written while no app ran: the snapshot is behind
    scheduler = SnapshotScheduler(db, lambda: 30)
    read: dict[str, int] = {}

    def query() -> None:
        scheduler.ensure_fresh()
        with duckdb.connect(str(snapshot_path_for(db.path)), read_only=True) as snap:
            read["n"] = snap.execute("SELECT count(*) FROM transcripts").fetchone()[0]

    reader = threading.Thread(target=query)
    with snapshot._write_lock:  # the start-up refresh's copy is held here, mid-way
        scheduler.refresh_soon(only_if_stale=True)
        reader.start()
        reader.join(0.5)  # time for a reader that does not wait to read the old file
    reader.join(60)
    _finish(scheduler)
    assert read == {"n": 4}
    assert scheduler.refreshes == 1  # one write served both: the reader did not write again
    assert not scheduler.dirty


def test_a_reading_command_while_the_app_refreshes_the_snapshot_waits_and_reads_every_write(
        db, tmp_path):
    """`triage export` in another process right after the app started on a snapshot behind
    the database: it says it waits, and reads the refreshed snapshot, not the old one."""
    add_transcripts(db, [make_record(i) for i in range(3)])
    write_snapshot(db)
    add_transcripts(db, [make_record(9)])  # the snapshot is behind; this process holds the file
    scheduler = SnapshotScheduler(db, lambda: 30)
    out = tmp_path / "transcripts.jsonl"
    with snapshot._write_lock:  # the app's start-up refresh, held mid-way
        scheduler.refresh_soon(only_if_stale=True)
        cli = subprocess.Popen(
            [sys.executable, "-c", "from core.cli.main import main; main()", "--db",
             str(db.path), "export", "--what", "transcripts", "--output", str(out)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        said = cli.stderr.readline()  # before it reads anything
    stdout, stderr = cli.communicate(timeout=120)
    _finish(scheduler)
    assert "is bringing the snapshot" in said and "waiting for it" in said, said + stderr
    assert cli.returncode == 0, stderr
    assert f"wrote 4 rows to {out}" in stdout
    assert "may lack the latest writes" not in stderr
    assert not refreshing_marker(snapshot_path_for(db.path)).exists()


def test_a_marker_of_a_dead_process_or_of_another_than_the_holder_is_no_refresh(db):
    add_transcripts(db, [make_record(1)])
    write_snapshot(db)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    refreshing_marker(snapshot_path_for(db.path)).write_text(dead)
    from core.store.connection import refresher, wait_for_refresh

    assert refresher(snapshot_path_for(db.path)) is None
    said: list[str] = []
    assert wait_for_refresh(snapshot_path_for(db.path), said.append, timeout=0)
    assert said == []
    refreshing_marker(snapshot_path_for(db.path)).write_text(str(os.getpid()))  # alive, but
    assert refresher(snapshot_path_for(db.path), holder=int(dead)) is None  # not the holder
    assert refresher(snapshot_path_for(db.path), holder=os.getpid()) == os.getpid()


def test_an_unreadable_snapshot_counts_as_stale(db):
    add_transcripts(db, [make_record(1)])
    write_snapshot(db)
    snapshot_path_for(db.path).write_bytes(b"not a database")
    assert not snapshot_is_current(db)


def test_triage_app_writes_a_missing_snapshot_before_its_server_starts(tmp_path, shared_data):
    from core.cli.app_cmd import prepare_database
    from core.config import load_settings

    path = tmp_path / "team.duckdb"
    team_database(path, shared_data, n_labels=25)
    assert not snapshot_path_for(path).exists()
    said = prepare_database(load_settings(env={}, db_path=str(path)))
    assert said == f"Opening {path} (200 transcripts)."
    db = connect(path, read_only=True)
    try:
        assert snapshot_is_current(db)
    finally:
        db.close()


def test_the_demo_database_gets_its_snapshot_with_the_demo_in_it(tmp_path):
    from core.cli.app_cmd import prepare_database
    from core.config import load_settings

    path = tmp_path / "triage-demo.duckdb"
    assert prepare_database(load_settings(env={}, db_path=str(path)), demo=True).startswith(
        "Loaded the demo: 300 transcripts")
    db = connect(path, read_only=True)
    try:
        assert snapshot_is_current(db)  # written after the demo went in, not before
    finally:
        db.close()
