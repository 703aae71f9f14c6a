"""The SQL page in Streamlit's AppTest: what the user sees, and the database behind it."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from core.analysts.schema_docs import EXAMPLE_QUERIES, RELATIONS
from core.config import snapshot_path_for
from core.store.annotations import NewAnnotation, add_annotation
from tests.analysts_helpers import fill
from tests.conftest import ROOT


@pytest.fixture
def page(db, taxonomy, monkeypatch):
    fill(db, taxonomy)
    db.close()
    monkeypatch.setenv("TRIAGE_DB", str(db.path))
    monkeypatch.setenv("TRIAGE_USER", "ana")
    at = AppTest.from_file(str(ROOT / "pages" / "sql.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    yield at
    from core.store.snapshot import scheduler_for
    from core.ui import _database

    live = _database(str(db.path))  # the page's cached connection: close it cleanly
    scheduler = scheduler_for(live)
    if scheduler:
        scheduler.cancel()
    _database.clear()
    live.close()


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="sql_text").set_value(sql)
    at.button(key="sql_run").click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_query_runs_on_a_fresh_snapshot_and_shows_rows(page):
    at = run_sql(page, "SELECT transcript_id, primary_label FROM final_labels ORDER BY 1")
    df = at.dataframe[0].value
    assert list(df.columns) == ["transcript_id", "primary_label"]
    assert df["transcript_id"].tolist() == [f"t{i}" for i in range(8)]
    assert any(c.value.startswith("8 rows in") for c in at.caption)
    snap = snapshot_path_for(Path(os.environ["TRIAGE_DB"]))
    assert duckdb.connect(str(snap), read_only=True).execute(
        "SELECT count(*) FROM final_labels").fetchone()[0] == 8


def test_saved_example_query_fills_the_editor_and_runs(page):
    page.selectbox(key="sql_example").set_value(EXAMPLE_QUERIES[4].title).run()
    assert page.text_area(key="sql_text").value == EXAMPLE_QUERIES[4].sql
    at = run_sql(page, EXAMPLE_QUERIES[4].sql)
    assert at.dataframe[0].value["transcript_id"].tolist() == ["t0", "t1"]


def test_hostile_query_is_refused_with_its_message(page):
    at = run_sql(page, "SELECT * FROM read_csv('/etc/passwd')")
    assert [e.value for e in at.error] == [
        "Files cannot be read or written from the SQL page: query the tables and views listed "
        "beside the editor."]
    assert not at.dataframe
    at = run_sql(at, "SELECT 1; DROP TABLE annotations")
    assert "One statement per run" in at.error[0].value


def test_schema_is_shown_beside_the_editor(page):
    labels = [e.label for e in page.expander]
    assert labels == [f"{r.name} ({r.kind})" for r in RELATIONS]
    assert any("fix class of primary_label" in str(t.value) for t in page.table)


def test_a_new_label_is_visible_to_the_next_query(page, taxonomy):
    at = run_sql(page, "SELECT count(*) AS n FROM annotations")
    assert at.dataframe[0].value["n"].tolist() == [11]
    from core.ui import _database  # the app's own connection, as the Annotate page uses it

    db = _database(os.environ["TRIAGE_DB"])
    add_annotation(db, NewAnnotation(transcript_id="t9", annotator="ana",
                                      primary_label="reasoning"), taxonomy.keys)
    at = run_sql(at, "SELECT count(*) AS n FROM annotations")
    assert at.dataframe[0].value["n"].tolist() == [12]


def test_export_section_prepares_a_tuning_seed_download(page):
    page.selectbox(key="export_what").set_value("tuning-seed")
    page.button(key="export_prepare").click().run()
    assert not page.exception
    ready = page.session_state["export_file"]
    assert ready.file_name == "tuning_seed.jsonl" and ready.rows == 3
    assert ready.data.decode().count("\n") == 3
