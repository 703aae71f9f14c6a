"""The Discover page in AppTest: group the notes, see saturation, merge, save the taxonomy and
make it active; "Other" labels get suggestions (labeler 'discover'); Annotate labels with it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.admin import switch_taxonomy
from core.store.connection import connect
from core.store.settings import get_setting, set_setting
from core.taxonomy import TAXONOMY_DIR, load_taxonomy
from tests.conftest import add_transcripts, make_record
from tests.discover_helpers import notes_db
from tests.seed_helpers import texts

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def installed():
    """A unique taxonomy name; its file in taxonomies/ is removed afterwards."""
    name = f"found_{uuid.uuid4().hex[:8]}"
    yield name
    (TAXONOMY_DIR / f"{name}.toml").unlink(missing_ok=True)


@pytest.fixture
def discovery_db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "app.duckdb"
    with connect(path) as db:
        switch_taxonomy(db, "discovery", "boss")
        notes_db(db, load_taxonomy("discovery"), per_mode=3, other=True)
        add_transcripts(db, [make_record(f"new{i}") for i in range(3)])
    monkeypatch.setenv("TRIAGE_DB", str(path))
    monkeypatch.setenv("TRIAGE_LOG", str(tmp_path / "triage.log"))
    return path


def _page(name: str, user: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=60)
    at.session_state["triage_user"] = user
    return at.run()


def test_group_merge_save_use_and_label_with_the_new_taxonomy(discovery_db, installed):
    at = _page("discover.py", "boss")
    at.radio[0].set_value("other")
    at.button(key="FormSubmitter:discover_params-Group the notes").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "candidate categories from 48 notes" in shown and "Saturation" not in shown
    assert at.session_state["disc"].saturation  # drawn as a chart, with its sentence below
    n = len(at.session_state["drafts"])
    keys = [d.key for d in at.session_state["drafts"]]
    at.multiselect[0].select(keys[1])
    at.selectbox[1].set_value(keys[0])
    at.button(key="FormSubmitter:merge-Merge").click().run()
    assert len(at.session_state["drafts"]) == n - 1
    at.text_input[0].set_value(installed).run()
    at.button[-1].click().run()
    assert not at.exception, at.exception
    assert f"Active taxonomy is now {installed}" in texts(at)
    with connect(discovery_db) as db:
        assert get_setting(db, "active_taxonomy") == installed
        got = db.con.execute("SELECT labeler, count(*), count(DISTINCT primary_label) FROM "
                             "prelabels GROUP BY 1").fetchall()
        humans = db.con.execute("SELECT count(*) FROM annotations").fetchone()[0]
    assert got[0][0] == "discover" and got[0][1] >= 30 and humans == 48
    new = load_taxonomy(installed)
    assert new.keys[-2:] == ["other", "no_failure"] and new.decision == load_taxonomy("default").decision
    ann = _page("annotate.py", "ann")
    first = new.keys[0]
    ann.button(key=f"cat_{first}").click().run()
    ann.button(key="act_save").click().run()
    assert not ann.exception, ann.exception
    with connect(discovery_db) as db:
        row = db.con.execute("SELECT primary_label, taxonomy_name, taxonomy_version FROM "
                             "annotations WHERE transcript_id LIKE '%new%'").fetchall()
    assert row == [(first, installed, new.version)]


def test_reviewers_who_are_not_admins_are_refused(discovery_db):
    with connect(discovery_db) as db:
        set_setting(db, "admins", ["boss"], "boss")
    at = _page("discover.py", "ann")
    assert at.error[0].value.startswith("The Discover page is for admins. You are 'ann' (reviewer). "
                                        "Ask an admin (boss)")
    assert not at.button
