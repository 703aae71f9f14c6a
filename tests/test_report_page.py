"""The Report page in Streamlit's AppTest: the verdict first, the sections, the random-only
toggle, slices, escaped examples, and the figures matching the rows in DuckDB."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.taxonomy import load_taxonomy
from tests.report_helpers import labeled_set, second_opinions
from tests.test_report_render import SCRIPT, hostile_set

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "report.py")


@pytest.fixture(scope="module")
def page_db(tmp_path_factory):
    """A database with 114 of 200 failures pipeline-class (random queue), 30 more labeled from
    a non-random queue, a double-labeled subset and a hostile transcript."""
    path = tmp_path_factory.mktemp("page") / "triage.duckdb"
    taxonomy = load_taxonomy("default")
    db = connect(path)
    register_taxonomy(db, taxonomy)
    hostile_set(db, taxonomy)
    ids = labeled_set(db, taxonomy, {"wrong_retrieval": 108, "tone_policy": 83}, start=100,
                      context_present="yes")
    second_opinions(db, taxonomy, ids[:5], ["wrong_retrieval"] * 5)
    labeled_set(db, taxonomy, {"tone_policy": 30}, start=1000, queue="low_confidence")
    rows = db.con.execute("SELECT fix_class, count(*) FROM final_labels GROUP BY 1").fetchall()
    db.close()
    return path, dict(rows)


@pytest.fixture(scope="module")
def app(page_db):
    path, _ = page_db
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRIAGE_DB", str(path))
        mp.setenv("TRIAGE_USER", "lead")
        yield AppTest.from_file(PAGE, default_timeout=60).run()


def test_verdict_comes_first_with_its_interval(app, page_db):
    _, by_class = page_db
    assert not app.exception
    assert app.title[0].value == "Inconclusive"  # 30 low-confidence tone labels tip it
    n_failures = sum(v for k, v in by_class.items() if k not in (None, "none"))
    assert f"of {n_failures} labeled failures (95% CI" in app.info[0].value
    assert any("non-random queues" in w.value for w in app.warning)
    assert [h.value for h in app.header] == [
        "Population estimate", "Fix classes", "Categories", "Readiness for fine-tuning",
        "What tuning would cost", "Next actions", "Slices",
        "Annotator agreement", "Pre-labeler quality", "Examples from the top categories",
        "How the sample was drawn", "Export"]
    assert app.metric[2].value == str(n_failures) and app.metric[1].label == "Labeled"


def test_random_only_toggle_changes_the_verdict(app):
    app.sidebar.toggle(key="report_random_only").set_value(True).run()
    assert not app.exception
    assert app.title[0].value == "Fix the pipeline first"
    assert "pipeline failures are 57.0% of 200 labeled failures (95% CI 50.1%–63.7%)" in \
        app.info[0].value
    app.sidebar.toggle(key="report_random_only").set_value(False).run()


def test_slices_show_n_and_flag_small_ones(app):
    app.selectbox(key="report_slice").select("channel").run()
    assert not app.exception
    frames = [f.value for f in app.dataframe]
    table = next(f for f in frames if "channel" in f.columns)
    assert set(table["channel"]) >= {"email", "web"}
    assert "fewer than 20 failures" in set(table["Note"])
    app.selectbox(key="report_slice").select("(none)").run()


def test_examples_are_shown_as_text(app):
    assert SCRIPT + " (#a0)" in [t.value for t in app.text]


def test_cost_panel_and_red_flags_are_on_the_page(app, page_db):
    assert "Before you tune: red flags" in [h.value for h in app.subheader]
    frames = [f.value for f in app.dataframe]
    flags = next(f for f in frames if "Red flag" in f.columns)
    assert list(flags["Red flag"]) == ["Too few examples", "Noisy labels", "Moving target",
                                       "Hallucination-type failures lead", "Task too broad",
                                       "Tried prompting first?"]
    assert flags.set_index("Red flag").loc["Tried prompting first?", "Status"] == "unanswered"
    inputs = next(f for f in frames if "Source" in f.columns)
    assert set(inputs["Source"]) <= {"setting", "measured", "default"}
    assert inputs.set_index("Input").loc["Queries per month", "Source"] == "default"
    text = " ".join(m.value for m in app.markdown)
    assert "A tuned model only addresses behavior failures" in text and "\\$" in text
