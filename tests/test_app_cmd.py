"""`triage app` and `triage demo`: a real server on a real database file."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from core.cli.app_cmd import app_script, streamlit_command
from core.cli.main import build_parser, run
from core.demo.apart import AppDatabase
from core.store.connection import connect
from tests.browser_helpers import free_port, wait_healthy
from tests.conftest import ROOT, add_transcripts, make_record
from tests.demo_helpers import TRIAGE, clean_env


def test_triage_app_on_a_fresh_folder_serves_the_demo_from_its_own_file(tmp_path):
    # A fresh clone: no --db, no TRIAGE_DB, no triage.duckdb. The demo goes to
    # triage-demo.duckdb beside where the default database would be; that one is not created.
    port = free_port()
    proc = subprocess.Popen([*TRIAGE, "app", "--port", str(port)], cwd=tmp_path,
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.startswith("Loaded the demo: 300 transcripts"), out
    assert f"Opening the demo ({tmp_path / 'triage-demo.duckdb'})" in out
    assert f"URL: http://localhost:{port}" in out
    assert not (tmp_path / "triage.duckdb").exists()
    db = connect(tmp_path / "triage-demo.duckdb", read_only=True)
    assert db.con.execute("SELECT count(*) FROM transcripts").fetchone()[0] == 300
    assert db.con.execute("SELECT count(*) FROM annotations WHERE origin = 'demo'").fetchone()[0] == 290
    db.close()


def test_triage_app_opens_the_default_database_once_it_is_in_use(tmp_path):
    from core.cli.app_cmd import app_database
    from core.config import load_settings

    default = tmp_path / "triage.duckdb"
    fresh = load_settings(env={}, db_path=None)
    assert fresh.db_given is False
    settings = dataclasses.replace(fresh, db_path=default)
    assert app_database(settings) == AppDatabase(tmp_path / "triage-demo.duckdb", True)
    connect(default).close()  # created, still empty: the demo still opens
    assert app_database(settings).demo
    db = connect(default)
    add_transcripts(db, [make_record(1)], source="prod")
    db.close()
    assert app_database(settings) == AppDatabase(default, False)
    named = load_settings(env={}, db_path=str(tmp_path / "empty.duckdb"))
    assert app_database(named) == AppDatabase(tmp_path / "empty.duckdb", False)  # --db wins


def test_triage_app_on_a_held_database_names_the_holder(tmp_path):
    db_path = tmp_path / "held.duckdb"
    holder = duckdb.connect(str(db_path))  # this test process holds the file, as a running app would
    try:
        done = subprocess.run([*TRIAGE, "--db", str(db_path), "app"], cwd=ROOT, env=clean_env(),
                              capture_output=True, text=True, timeout=60)
    finally:
        holder.close()
    assert done.returncode == 2
    assert f"process {os.getpid()}" in done.stderr
    assert "another `triage app` is probably running" in done.stderr


def test_triage_demo_without_db_loads_into_its_own_file_once(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIAGE_DB", raising=False)
    assert run(["demo"]) == 0
    assert capsys.readouterr().out.startswith("Loaded the demo: 300 transcripts")
    assert run(["demo"]) == 0
    assert capsys.readouterr().out == (
        f"The demo is already loaded in {Path('triage-demo.duckdb')}; nothing to do.\n")
    assert sorted(p.name for p in tmp_path.glob("*.duckdb")) == ["triage-demo.duckdb"]


def test_triage_demo_refuses_a_database_with_other_transcripts(tmp_path, capsys):
    db_path = tmp_path / "mine.duckdb"
    db = connect(db_path)
    add_transcripts(db, [make_record(1)], source="prod")
    db.close()
    assert run(["--db", str(db_path), "demo"]) == 2
    err = capsys.readouterr().err
    assert "already holds 1 other transcripts" in err and "triage-demo.duckdb" in err
    with pytest.raises(SystemExit) as gone:  # the flag is gone: a usage error
        run(["--db", str(db_path), "demo", "--force-into-nonempty"])
    assert gone.value.code == 2
    assert "unrecognized arguments: --force-into-nonempty" in capsys.readouterr().err
    db = connect(db_path)
    assert db.con.execute("SELECT source, count(*) FROM transcripts GROUP BY 1").fetchall() == [
        ("prod", 1)]
    db.close()


def test_app_passes_port_and_extra_arguments_to_streamlit():
    args = build_parser().parse_args(["app", "--port", "8599", "--", "--theme.base", "dark"])
    cmd = streamlit_command(app_script(), args.port, args.streamlit_args, args.host)
    assert cmd[:4] == [sys.executable, "-m", "core.cli.app_server", str(ROOT / "triage_app.py")]
    assert cmd[4:] == ["--server.headless", "true", "--server.address", "127.0.0.1",
                       "--browser.gatherUsageStats", "false",
                       "--browser.serverAddress", "localhost", "--client.toolbarMode", "minimal",
                       "--server.port", "8599",
                       "--theme.base", "dark"]


def test_the_app_gets_the_absolute_database_path_and_the_cli_user(tmp_path, monkeypatch):
    from core.config import child_environment, load_settings

    monkeypatch.chdir(tmp_path)
    env = child_environment(load_settings(env={}, db_path="team.duckdb", user="maria"))
    assert env["TRIAGE_DB"] == str(tmp_path / "team.duckdb")
    assert env["TRIAGE_USER"] == "maria"


def test_the_app_holds_the_database_from_its_start_before_any_page_opens(tmp_path):
    db_path = tmp_path / "team.duckdb"
    db = connect(db_path)
    add_transcripts(db, [make_record(1)], source="prod")
    db.close()
    records = tmp_path / "more.jsonl"
    records.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    first = subprocess.Popen([*TRIAGE, "--db", str(db_path), "app", "--port", str(free_port())],
                             cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert first.stdout.readline().startswith(f"Opening {db_path} (1 transcripts)")
        assert first.stdout.readline().startswith(f"The app holds {db_path} until it stops")
        # No page has opened (no browser at all): the lock is held already.
        second = subprocess.run([*TRIAGE, "--db", str(db_path), "app", "--port", str(free_port())],
                                cwd=ROOT, env=clean_env(), capture_output=True, text=True,
                                timeout=60)
        write = subprocess.run([*TRIAGE, "--db", str(db_path), "import", str(records)], cwd=ROOT,
                               env=clean_env(), capture_output=True, text=True, timeout=60)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the CLI and its server process
        first.communicate(timeout=30)
    assert second.returncode == 2
    assert "another `triage app` is probably running" in second.stderr
    assert "core.cli.app_server" in second.stderr  # the holder: the first app's server
    assert write.returncode == 2 and "core.cli.app_server" in write.stderr


def test_a_reading_command_right_after_the_app_starts_reads_writes_the_snapshot_lacked(tmp_path):
    """Issue 15: the app starts on a snapshot behind the database (a write after the last
    refresh); no page opens; `triage export` at once reads every transcript, not the old copy."""
    from core.store.snapshot import write_snapshot

    db_path = tmp_path / "team.duckdb"
    db = connect(db_path)
    add_transcripts(db, [make_record(1)], source="prod")
    write_snapshot(db)
    add_transcripts(db, [make_record(i) for i in range(2, 500)], source="prod")
    db.close()
    out = tmp_path / "transcripts.jsonl"
    app = subprocess.Popen([*TRIAGE, "--db", str(db_path), "app", "--port", str(free_port())],
                           cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert app.stdout.readline().startswith(f"Opening {db_path} (499 transcripts)")
        assert app.stdout.readline().startswith(f"The app holds {db_path} until it stops")
        export = subprocess.run([*TRIAGE, "--db", str(db_path), "export", "--what",
                                 "transcripts", "--output", str(out)], cwd=ROOT,
                                env=clean_env(), capture_output=True, text=True, timeout=120)
    finally:
        os.killpg(app.pid, signal.SIGKILL)
        app.communicate(timeout=30)
    assert export.returncode == 0, export.stderr
    assert "reading the snapshot" in export.stderr  # the app held the file: the snapshot it was
    assert f"wrote 499 rows to {out}" in export.stdout
