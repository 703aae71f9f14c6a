"""A second process holding the database: writers exit 2 naming it; readers fall back to the
snapshot (saying how old it is), or exit 2 when there is none."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import snapshot_path_for
from core.store.connection import connect
from core.store.settings import set_setting
from tests.conftest import make_record
from tests.ingest_helpers import cli, write_jsonl

HOLDER = (
    "import sys, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
)


@pytest.fixture
def prepared_db(db_path: Path) -> Path:
    db = connect(db_path)
    set_setting(db, "overlap_share", 0.3, "admin")
    db.close()
    return db_path


def _hold(path: Path) -> subprocess.Popen:
    """Start a process that opens the file for writing and waits on stdin."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"  # blocks until the lock is taken
    return proc


def _release(proc: subprocess.Popen) -> None:
    proc.stdin.write("\n")
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.fixture
def holder(prepared_db):
    proc = _hold(prepared_db)
    yield proc
    _release(proc)


def test_import_exits_2_naming_holder(holder, prepared_db, tmp_path, capsys):
    f = write_jsonl(tmp_path / "x.jsonl", [make_record(1)])
    code, out, err = cli(capsys, prepared_db, "import", str(f))
    assert code == 2 and out == ""
    assert f"is held by process {holder.pid} (" in err and "-c import sys, duckdb" in err
    assert "DuckDB allows one process at a time" in err


def test_sample_draw_exits_2_when_held(holder, prepared_db, capsys):
    code, _, err = cli(capsys, prepared_db, "sample", "--n", "5", "--seed", "1")
    assert code == 2 and f"process {holder.pid}" in err


def test_readers_fall_back_to_snapshot(prepared_db, capsys):
    shutil.copy(prepared_db, snapshot_path_for(prepared_db))
    proc = _hold(prepared_db)
    try:
        code, out, err = cli(capsys, prepared_db, "config", "get", "overlap_share")
        assert code == 0 and out == "0.3\n"  # stdout stays the value, for scripts
        assert err.startswith("note: the database is held by another process; reading the "
                              f"snapshot {snapshot_path_for(prepared_db)} (")
        assert " s old)\n" in err
        code, out, err = cli(capsys, prepared_db, "sample", "--list")
        assert code == 0 and "reading the snapshot" in err and "no samples yet" in out
    finally:
        _release(proc)


def test_readers_without_snapshot_exit_2(holder, prepared_db, capsys):
    for args in (["config", "get", "overlap_share"], ["sample", "--list"]):
        code, out, err = cli(capsys, prepared_db, *args)
        assert code == 2 and out == ""
        assert f"is held by process {holder.pid}" in err


def test_db_that_is_not_a_duckdb_file_is_refused(tmp_path, capsys):
    # DuckDB would open a JSONL file as an empty in-memory database and drop every write.
    logs = tmp_path / "logs.jsonl"
    logs.write_text(json.dumps(make_record(1)) + "\n")
    code, _, err = cli(capsys, logs, "import", str(logs))
    assert code == 2 and f"{logs} is not a DuckDB database" in err
    assert logs.read_text().startswith('{"id": "t1"')
    code, _, err = cli(capsys, tmp_path, "report")
    assert code == 2 and "is a folder, not a database file" in err
