"""`triage app` and `triage demo`: a real server on a real database file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import duckdb

from core.cli.app_cmd import app_script, streamlit_command
from core.cli.main import build_parser, run
from core.store.connection import connect
from tests.browser_helpers import free_port, wait_healthy
from tests.conftest import ROOT, add_transcripts, make_record
from tests.demo_helpers import TRIAGE, clean_env


def test_triage_app_loads_the_demo_then_serves_until_sigterm(tmp_path):
    db_path, port = tmp_path / "team.duckdb", free_port()
    proc = subprocess.Popen([*TRIAGE, "--db", str(db_path), "app", "--port", str(port)], cwd=ROOT,
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.startswith("Loaded the demo: 300 transcripts"), out
    assert f"URL: http://localhost:{port}" in out
    db = connect(db_path, read_only=True)
    assert db.con.execute("SELECT count(*) FROM transcripts").fetchone()[0] == 300
    assert db.con.execute("SELECT count(*) FROM annotations WHERE origin = 'demo'").fetchone()[0] == 290
    db.close()


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


def test_triage_demo_loads_into_an_empty_database_once(tmp_path, capsys):
    db_path = str(tmp_path / "demo.duckdb")
    assert run(["--db", db_path, "demo"]) == 0
    assert capsys.readouterr().out.startswith("Loaded the demo: 300 transcripts")
    assert run(["--db", db_path, "demo"]) == 0
    assert capsys.readouterr().out == "The demo is already loaded; nothing to do.\n"


def test_triage_demo_refuses_a_database_with_other_transcripts(tmp_path, capsys):
    db_path = tmp_path / "mine.duckdb"
    db = connect(db_path)
    add_transcripts(db, [make_record(1)], source="prod")
    db.close()
    assert run(["--db", str(db_path), "demo"]) == 2
    assert "already holds 1 transcripts" in capsys.readouterr().err
    assert run(["--db", str(db_path), "demo", "--force-into-nonempty"]) == 0
    db = connect(db_path)
    assert db.con.execute("SELECT source, count(*) FROM transcripts GROUP BY 1 ORDER BY 1").fetchall() == [
        ("demo", 300), ("prod", 1)]
    db.close()


def test_app_passes_port_and_extra_arguments_to_streamlit():
    args = build_parser().parse_args(["app", "--port", "8599", "--", "--theme.base", "dark"])
    cmd = streamlit_command(app_script(), args.port, args.streamlit_args)
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(ROOT / "triage_app.py")]
    assert cmd[5:] == ["--server.headless", "true", "--browser.gatherUsageStats", "false",
                       "--browser.serverAddress", "localhost", "--client.toolbarMode", "minimal",
                       "--server.port", "8599",
                       "--theme.base", "dark"]


def test_the_app_gets_the_absolute_database_path_and_the_cli_user(tmp_path, monkeypatch):
    from core.config import child_environment, load_settings

    monkeypatch.chdir(tmp_path)
    env = child_environment(load_settings(env={}, db_path="team.duckdb", user="maria"))
    assert env["TRIAGE_DB"] == str(tmp_path / "team.duckdb")
    assert env["TRIAGE_USER"] == "maria"
