"""`triage discover` and `triage taxonomy`: --input without a database, JSON on stdout, the
--save round trip through `taxonomy check` and `taxonomy use`, --suggest, admins only."""

from __future__ import annotations

import json
import uuid

import pytest

from core.cli.main import run
from core.store.connection import connect
from core.store.settings import get_setting, set_setting
from core.taxonomy import TAXONOMY_DIR, load_taxonomy
from tests.discover_helpers import NOTES_FILE, notes_db


@pytest.fixture
def name():
    n = f"found_{uuid.uuid4().hex[:8]}"
    yield n
    (TAXONOMY_DIR / f"{n}.toml").unlink(missing_ok=True)


def test_input_needs_no_database_and_prints_json(shared_data, tmp_path, capsys):
    db_path = tmp_path / "none.duckdb"
    code = run(["--db", str(db_path), "discover", "--input", str(shared_data / NOTES_FILE),
                "--format", "json", "--seed", "3"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and not db_path.exists()
    assert out["n_notes"] == 184 and 5 <= len(out["clusters"]) <= 25
    assert out["method"]["seed"] == 3 and out["saturation"][-1]["notes"] == 184


def test_rejected_rows_are_named_and_exit_1(tmp_path, capsys):
    f = tmp_path / "notes.jsonl"
    lines = [json.dumps({"id": f"n{i}", "text": t}) for i, t in
             enumerate(["wrong price quoted"] * 6 + ["tool never called"] * 6)]
    f.write_text("\n".join([*lines, json.dumps({"id": "x", "text": ""})]) + "\n")
    code = run(["--db", str(tmp_path / "x.duckdb"), "discover", "--input", str(f)])
    captured = capsys.readouterr()
    assert code == 1 and "line 13: `text` is empty or not a string (left out)" in captured.err
    assert "12 notes → 2 clusters" in captured.out


def test_save_round_trip_check_use_and_suggest(db_path, taxonomy, capsys, name, tmp_path):
    with connect(db_path) as db:
        from core.admin import switch_taxonomy

        switch_taxonomy(db, "discovery", "boss")
        notes_db(db, load_taxonomy("discovery"), per_mode=3, other=True)
        set_setting(db, "admins", ["boss"], "boss")
    toml = tmp_path / f"{name}.toml"
    assert run(["--db", str(db_path), "discover", "--scope", "other", "--save", str(toml)]) == 0
    err = capsys.readouterr().err
    assert f"to {toml}" in err and "discovery mode: no failure category has a fix class" in err
    assert run(["taxonomy", "check", str(toml)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("warning: discovery mode") and f"valid taxonomy '{name}'" in out
    assert run(["--db", str(db_path), "--user", "ann", "taxonomy", "use", str(toml)]) == 2
    assert "'ann' may not switch the taxonomy" in capsys.readouterr().err
    assert run(["--db", str(db_path), "--user", "boss", "taxonomy", "use", str(toml)]) == 0
    assert f"active taxonomy: {name}" in capsys.readouterr().out
    with connect(db_path) as db:
        assert get_setting(db, "active_taxonomy") == name
        log = db.con.execute("SELECT action, target, done_by FROM admin_log").fetchall()
    assert ("switch_taxonomy", name, "boss") in log
    assert run(["--db", str(db_path), "--user", "boss", "taxonomy", "list"]) == 0
    assert f"* {name}" in capsys.readouterr().out
    assert run(["--db", str(db_path), "--user", "boss", "discover", "--scope", "other",
                "--suggest", "--saturation-steps", "0"]) == 0
    assert "suggested a category for" in capsys.readouterr().err
    with connect(db_path) as db:
        labelers = db.con.execute("SELECT DISTINCT labeler, taxonomy_version FROM prelabels").fetchall()
        n = db.con.execute("SELECT count(*) FROM prelabels").fetchone()[0]
    assert labelers == [("discover", load_taxonomy(name).version)] and n >= 30
    assert run(["--db", str(db_path), "--user", "boss", "discover", "--scope", "other",
                "--suggest", "--saturation-steps", "0"]) == 0
    with connect(db_path) as db:  # a re-run adds nothing
        assert db.con.execute("SELECT count(*) FROM prelabels").fetchone()[0] == n


def test_taxonomy_check_reports_errors_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[[categories]]\nkey = "x"\n', encoding="utf-8")
    assert run(["taxonomy", "check", str(bad)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error: bad.toml:") and "category 'x' (#1): name: missing (required)" in out


def test_taxonomy_show_prints_categories(capsys, tmp_path):
    assert run(["--db", str(tmp_path / "x.duckdb"), "taxonomy", "show", "discovery"]) == 0
    out = capsys.readouterr().out
    assert "discovery mode" in out and "other" in out and "unknown" in out


def test_use_refuses_a_different_file_under_an_installed_name(db_path, tmp_path, capsys):
    text = (TAXONOMY_DIR / "discovery.toml").read_text(encoding="utf-8").replace(
        "Discovery mode: describe", "Another: describe")
    f = tmp_path / "discovery.toml"
    f.write_text(text, encoding="utf-8")
    assert run(["--db", str(db_path), "taxonomy", "use", str(f)]) == 2
    assert "already holds a different taxonomy named 'discovery'" in capsys.readouterr().err
