"""What the app pays for at start and on a page's revisit (issue 16): the entry script does
not import the heavy libraries only some pages use; the Report page keeps the report it built
until the next write; the database counts committed writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.taxonomy import load_taxonomy
from tests.report_helpers import labeled_set

ROOT = Path(__file__).resolve().parent.parent
# Not plotly: Streamlit itself imports it at start (its chart theme), an empty app too.
HEAVY = ("sklearn", "openai", "tiktoken", "reportlab")


def test_the_entry_script_and_ui_glue_import_no_heavy_library():
    # Importing triage_app defines the pages without running them (not __main__).
    code = ("import sys; import triage_app, core.ui, core.home; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_generation_counts_committed_transactions_only(tmp_path):
    db = connect(tmp_path / "g.duckdb")
    start = db.generation
    with db.transaction(), db.transaction():  # joins the outer one: one commit
        db.con.execute("INSERT INTO settings VALUES ('x', '1', 'me', now())")
    assert db.generation == start + 1
    with pytest.raises(RuntimeError), db.transaction():
        db.con.execute("INSERT INTO settings VALUES ('y', '1', 'me', now())")
        raise RuntimeError("rolled back")
    assert db.generation == start + 1
    db.close()


def test_report_page_keeps_its_report_until_a_write(tmp_path, monkeypatch):
    path = tmp_path / "triage.duckdb"
    taxonomy = load_taxonomy("default")
    db = connect(path)
    register_taxonomy(db, taxonomy)
    labeled_set(db, taxonomy, {"wrong_retrieval": 6, "tone_policy": 2}, start=1)
    db.close()
    monkeypatch.setenv("TRIAGE_DB", str(path))
    monkeypatch.setenv("TRIAGE_USER", "lead")
    at = AppTest.from_file(str(ROOT / "pages" / "report.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    labeled = {m.label: m.value for m in at.metric}["Labeled"]
    def generated(at: AppTest) -> str:
        return next(c.value for c in at.caption if " generated " in c.value)

    first = generated(at)  # "... generated <time>": the same report when rerun
    at.run()
    assert generated(at) == first
    db = connect(path)  # another connection of this process writes: the report is rebuilt
    labeled_set(db, taxonomy, {"reasoning": 3}, start=100)
    db.close()
    at.run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Labeled"] == str(int(labeled) + 3)


def test_a_command_imports_only_its_own_module():
    # `triage app` builds its parser without importing the other commands (sklearn, openai...).
    code = ("import sys; from core.cli.main import build_parser, command_in; "
            "build_parser(command_in(['--db', 'x.duckdb', 'app', '--port', '1'])); "
            f"print([m for m in {HEAVY!r} + ('core.cli.discover_cmd',) if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_lazy_command_table_names_every_registered_command():
    from core.cli.main import COMMANDS, build_parser, command_in
    whole = build_parser()
    names = set(whole._subparsers._group_actions[0].choices)
    assert names == set(COMMANDS)
    for name in names:
        one = build_parser(name)
        assert name in one._subparsers._group_actions[0].choices
    assert command_in(["--db", "report", "report"]) == "report"
    assert command_in(["--user=x", "--help"]) is None
