"""The landing page, as a reviewer sees it on a database with the demo."""

from __future__ import annotations

from datetime import datetime

import pytest
from streamlit.testing.v1 import AppTest

from core.home import landing_summary
from core.store.annotations import NewAnnotation, add_annotation, retract_label
from core.store.connection import connect
from core.taxonomy import load_taxonomy
from tests.conftest import ROOT
from tests.demo_helpers import demo_database


@pytest.fixture
def demo_db_path(tmp_path):
    path = tmp_path / "demo.duckdb"
    demo_database(path)
    return path


def open_home(monkeypatch, db_path, user="ayla"):
    monkeypatch.setenv("TRIAGE_DB", str(db_path))
    monkeypatch.setenv("TRIAGE_USER", user)
    at = AppTest.from_file(str(ROOT / "triage_app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def metrics(at):
    return {m.label: m.value for m in at.metric}


def test_home_shows_demo_counts_and_next_step(monkeypatch, demo_db_path):
    at = open_home(monkeypatch, demo_db_path)
    assert metrics(at) == {"Transcripts": "300", "Labeled": "236", "Double-labeled": "48",
                           "Open disagreements": "4", "Pre-labeled": "300", "Your labels today": "0"}
    assert [i.value for i in at.info] == [
        "**Next:** Annotate: 60 of 300 transcripts have no label yet."]
    assert ":orange-badge[:material/science: Demo] The bundled demo (`demo.duckdb`)" in at.markdown[0].value
    assert any("Your own data goes in a database of its own" in m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert list(table.columns) == ["Category", "Fix class", "Transcripts"]
    counts = dict(zip(table["Category"], table["Transcripts"], strict=True))
    assert counts["Wrong retrieval"] > counts["Schema / format"] > 0
    assert sum(counts.values()) == 236  # as the report counts: open disagreements apart


def test_home_counts_the_reviewers_own_labels_today(monkeypatch, demo_db_path):
    db = connect(demo_db_path)
    taxonomy = load_taxonomy("default")
    tid = db.con.execute("SELECT transcript_id FROM transcripts t WHERE NOT EXISTS ("
                         "SELECT 1 FROM annotations a WHERE a.transcript_id = t.transcript_id) "
                         "ORDER BY 1 LIMIT 1").fetchone()[0]
    add_annotation(db, NewAnnotation(tid, "ayla", primary_label="reasoning",
                                      taxonomy_name="default", taxonomy_version=taxonomy.version),
                    taxonomy.keys)
    db.close()
    at = open_home(monkeypatch, demo_db_path, user="ayla")
    assert metrics(at)["Your labels today"] == "1"
    assert metrics(at)["Labeled"] == "237"
    assert at.info[0].value == "**Next:** Annotate: 59 of 300 transcripts have no label yet."
    db = connect(demo_db_path)
    retract_label(db, tid, "ayla")  # U on Annotate: no longer counted, as Annotate counts it
    db.close()
    at = open_home(monkeypatch, demo_db_path, user="ayla")
    assert metrics(at)["Your labels today"] == "0"


def test_home_on_an_empty_database_says_import_first(monkeypatch, tmp_path):
    at = open_home(monkeypatch, tmp_path / "empty.duckdb")
    assert metrics(at)["Transcripts"] == "0"
    assert at.info[0].value.startswith("**Next:** Import your transcripts")
    assert not any("bundled demo" in c.value for c in at.caption)


def test_next_step_moves_to_adjudication_then_report(db, taxonomy):
    from tests.conftest import add_transcripts, make_record

    add_transcripts(db, [make_record(0)])
    for who, key in (("ann", "tone_policy"), ("bob", "escalation")):
        add_annotation(db, NewAnnotation("t0", who, primary_label=key, taxonomy_name="default",
                                          taxonomy_version=taxonomy.version), taxonomy.keys)
    s = landing_summary(db, taxonomy, "ann", now=datetime(2000, 1, 1))
    assert (s.next_step.action, s.disagreements, s.my_labels_today) == ("adjudicate", 1, 1)
    add_annotation(db, NewAnnotation("t0", "lead", kind="adjudication", primary_label="escalation",
                                      taxonomy_name="default", taxonomy_version=taxonomy.version),
                    taxonomy.keys)
    s = landing_summary(db, taxonomy, "ann")
    assert s.next_step.action == "report"
    assert [(c.key, c.n) for c in s.by_category if c.n] == [("escalation", 1)]
