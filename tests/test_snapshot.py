"""The analysts' snapshot: atomic, readable by the DuckDB 1.5 CLI, refreshed after writes,
and the lock scenarios with real processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from core.cli.main import run
from core.config import snapshot_path_for
from core.store.snapshot import SnapshotScheduler, install_scheduler, write_snapshot
from tests.analysts_helpers import duckdb_cli, fill
from tests.conftest import ROOT, add_transcripts, make_record, require_or_skip

MAIN = "from core.cli.main import main; main()"


@pytest.fixture
def cli_binary() -> str:
    path = duckdb_cli()
    require_or_skip(path is not None, "duckdb-cli 1.5 is not installed (pip install duckdb-cli==1.5.6)")
    return path  # type: ignore[return-value]


def cli_query(binary: str, path: Path, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "-readonly", "-csv", "-noheader", str(path), "-c", sql],
                          capture_output=True, text=True, timeout=60)


def test_snapshot_is_read_by_the_duckdb_15_cli_with_tables_and_views(db, taxonomy, cli_binary):
    fill(db, taxonomy)
    info = write_snapshot(db)
    assert info.path == snapshot_path_for(db.path) and info.size_bytes > 0
    assert not list(info.path.parent.glob(".*.tmp*")), "temp file left behind"
    version = subprocess.run([cli_binary, "--version"], capture_output=True, text=True).stdout
    assert version.startswith("v1.5")
    out = cli_query(cli_binary, info.path,
                    "SELECT (SELECT count(*) FROM annotations), (SELECT count(*) FROM final_labels),"
                    " (SELECT count(*) FROM current_labels WHERE annotator = 'bob')")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "11,8,3"


def test_scheduler_writes_one_refresh_for_a_burst_of_writes_within_the_interval(db):
    refreshes = []
    written = threading.Event()
    scheduler = SnapshotScheduler(db, lambda: 1.0)
    original = scheduler.refresh_now

    def refresh():  # observe the timer's writes; each write itself is real
        refreshes.append(original())
        written.set()
        return refreshes[-1]

    scheduler.refresh_now = refresh
    db.after_commit.append(scheduler.mark_dirty)
    refresh()  # a fresh snapshot: the next writes wait for the rest of the interval
    written.clear()
    add_transcripts(db, [make_record(1)])
    add_transcripts(db, [make_record(2)])
    assert scheduler.dirty
    assert written.wait(30)
    scheduler.cancel()
    assert len(refreshes) == 2  # the manual one, then one for both writes
    snap = duckdb.connect(str(snapshot_path_for(db.path)), read_only=True)
    assert snap.execute("SELECT count(*) FROM transcripts").fetchone()[0] == 2
    assert not scheduler.dirty


def test_refresh_now_writes_at_once_and_ensure_fresh_skips_a_clean_snapshot(db):
    scheduler = install_scheduler(db, lambda: 3600)
    assert scheduler.ensure_fresh() is not None  # missing → written
    assert scheduler.ensure_fresh() is None
    add_transcripts(db, [make_record(1)])
    assert scheduler.dirty
    assert scheduler.refresh_now().path.exists()
    scheduler.cancel()


def test_triage_snapshot_writes_when_no_app_holds_the_database(db, capsys):
    add_transcripts(db, [make_record(1)])
    db.close()
    assert run(["--db", str(db.path), "snapshot"]) == 0
    assert "wrote " in capsys.readouterr().out
    assert snapshot_path_for(db.path).exists()


def test_app_like_writer_and_analysts_read_with_no_lock_error_and_no_lost_label(
        tmp_path, cli_binary):
    live = tmp_path / "team.duckdb"
    snap = snapshot_path_for(live)
    writer = subprocess.Popen([sys.executable, "-m", "tests.analysts_writer", str(live), "0.2"],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
        counts = []
        for _ in range(6):  # the analyst with the DuckDB 1.5 CLI, while labels are written
            out = cli_query(cli_binary, snap, "SELECT count(*) FROM annotations")
            assert out.returncode == 0 and "lock" not in out.stderr.lower(), out.stderr
            counts.append(int(out.stdout))
        py = subprocess.run([sys.executable, "-c", (
            "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.execute('SELECT count(*) FROM final_labels').fetchone()[0])"), str(snap)],
            capture_output=True, text=True, timeout=60)
        assert py.returncode == 0, py.stderr
        reading = subprocess.run(
            [sys.executable, "-c", MAIN, "--db", str(live), "config", "get", "snapshot_interval"],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert reading.returncode == 0 and "reading the snapshot" in reading.stderr, reading.stderr
        exported = subprocess.run(
            [sys.executable, "-c", MAIN, "--db", str(live), "export", "--what", "annotations",
             "--format", "csv", "--output", str(tmp_path / "a.csv")],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert exported.returncode == 0 and "reading the snapshot" in exported.stderr, exported.stderr
        writer.stdin.write("stop\n")
        writer.stdin.flush()
        done = writer.stdout.readline().split()
        assert done[0] == "done", writer.stderr.read()
        saved, refreshes, failures = map(int, done[1:])
        assert failures == 0 and refreshes > 2
        held = subprocess.run([sys.executable, "-c", MAIN, "--db", str(live), "snapshot"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert held.returncode == 2
        assert f"held by process {writer.pid}" in held.stderr
        assert '"Refresh snapshot" button' in held.stderr
        writer.stdin.write("exit\n")
        writer.stdin.flush()
        assert writer.wait(60) == 0
        assert "Traceback" not in writer.stderr.read()
    finally:
        writer.kill() if writer.poll() is None else None
    print(f"labels saved {saved}; snapshots written {refreshes}; annotation counts seen by the CLI while writing: {counts}")
    assert counts == sorted(counts), "the snapshot never goes back in time"
    final = cli_query(cli_binary, snap, "SELECT count(*) FROM annotations")
    assert int(final.stdout) == saved > counts[0]
    assert duckdb.connect(str(live), read_only=True).execute(
        "SELECT count(*) FROM annotations").fetchone()[0] == saved


def test_triage_snapshot_without_a_database_exits_2(tmp_path, capsys):
    assert run(["--db", str(tmp_path / "none.duckdb"), "snapshot"]) == 2
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "none.duckdb").exists()
