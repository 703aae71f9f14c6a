"""The Report page's population estimate in Streamlit's AppTest: both estimates on one chart,
the width-vs-n chart, the block's figures matching the database, and the sidebar toggle."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.taxonomy import load_taxonomy
from tests.population_helpers import add_population, label_random_sample, llm_prelabels, noisy

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "report.py")


def population_db(path: Path, n_transcripts: int = 1500, n_labeled: int = 200) -> Path:
    """A database with LLM pre-labels (85% right) on every transcript and a labeled uniform
    random sample: the population block estimates with PPI++."""
    taxonomy = load_taxonomy("default")
    db = connect(path)
    register_taxonomy(db, taxonomy)
    ids, truth = add_population(db, n_transcripts)
    label_random_sample(db, taxonomy, truth, n_labeled)
    llm_prelabels(db, taxonomy, dict(zip(ids, noisy([truth[i] for i in ids], 0.85, taxonomy.keys, 7),
                                         strict=True)))
    db.close()
    return path


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    path = population_db(tmp_path_factory.mktemp("poppage") / "triage.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRIAGE_DB", str(path))
        mp.setenv("TRIAGE_USER", "lead")
        yield AppTest.from_file(PAGE, default_timeout=90).run(), path


def test_population_block_shows_both_estimates_and_the_width_chart(app):
    at, path = app
    assert not at.exception
    headers = [h.value for h in at.header]
    assert headers[:2] == ["Population estimate", "Fix classes"]
    assert any(c.value.startswith("Verdict from the population estimate (PPI++ over 1,500 "
                                  "transcripts, 200 random human labels") for c in at.caption)
    assert len(at.get("plotly_chart")) == 5  # side by side, width vs n, fix classes, categories, cost
    frames = [f.value for f in at.dataframe]
    both = next(f for f in frames if "Population share" in f.columns)
    assert list(both["Fix class"]) == ["pipeline", "behavior", "model", "no failure (share of all)"]
    facts = dict(next(f for f in frames if "Value" in f.columns).itertuples(index=False))
    db = connect(path)  # the page's server holds the file: the same (read-write) configuration
    n_pop, n_lab = db.con.execute("SELECT count(DISTINCT transcript_id), "
                                  "count(human_fix_class) FROM ppi_inputs").fetchone()
    db.close()
    assert facts["Population (N)"] == f"{n_pop:,}" and facts["Random human sample (n)"] == str(n_lab)
    assert facts["Method"] == "PPI++"


def test_population_toggle_turns_the_estimate_off(app):
    at, _ = app
    at.sidebar.toggle(key="report_population").set_value(False).run()
    assert not at.exception
    assert any("population estimate: turned off" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 3  # fix classes, categories and the cost panel only
    at.sidebar.toggle(key="report_population").set_value(True).run()
