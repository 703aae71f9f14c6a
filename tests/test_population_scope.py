"""A population other than all active transcripts (issue 17): a random sample drawn with
`--where`, named by the population_scope setting, makes its filter's transcripts the population.
Real DuckDB files; the numbers are checked against ppi_py on the arrays read back from
`ppi_inputs`, as an analyst would."""

from __future__ import annotations

import json

import ppi_py
import pytest

from core.cli.main import run as cli
from core.labels.samples import draw_sample
from core.report.build import build_report
from core.store.settings import set_setting
from tests.population_helpers import add_population, llm_prelabels, noisy
from tests.report_helpers import ann, insert_annotations
from tests.test_population import Z, analyst_arrays


@pytest.fixture(scope="module")
def taxonomy():
    from core.taxonomy import load_taxonomy

    return load_taxonomy("default")


def label_sample(db, taxonomy, truth, sample, start=0):
    insert_annotations(db, [ann(taxonomy, t, "ann", truth[t], start + i, queue="random",
                                sample_id=sample.sample_id)
                            for i, t in enumerate(sample.transcript_ids)])


@pytest.fixture
def web_sample(db, taxonomy):
    """1,200 transcripts (600 channel=web, 600 email), LLM pre-labels (80% right) on all, and a
    random sample of 150 drawn with --where channel=web, labeled."""
    ids, truth = add_population(db, 1200)
    llm_prelabels(db, taxonomy, dict(zip(ids, noisy([truth[i] for i in ids], 0.8, taxonomy.keys, 4),
                                         strict=True)))
    sample = draw_sample(db, 150, 5, where={"channel": ["web"]}, created_by="test")
    label_sample(db, taxonomy, truth, sample)
    return db, ids, truth, sample


def web_ids(db) -> set[str]:
    return {r[0] for r in db.con.execute(
        "SELECT transcript_id FROM transcripts WHERE metadata->>'channel' = 'web'").fetchall()}


def test_without_a_scope_a_filtered_sample_is_not_random_for_everything(web_sample, taxonomy):
    db, _, _, _ = web_sample
    p = build_report(db, taxonomy).population
    assert (p.method, p.N, p.n, p.n_excluded_nonrandom) == ("human-only", 1200, 0, 150)
    assert p.scope == "all active transcripts"


def test_the_filtered_sample_is_the_population_when_the_scope_names_it(web_sample, taxonomy):
    db, _, _, sample = web_sample
    set_setting(db, "population_scope", sample.sample_id, "test")
    p = build_report(db, taxonomy).to_dict()["population"]
    assert (p["method"], p["N"], p["n"], p["n_excluded_nonrandom"]) == ("ppi++", 600, 150, 0)
    assert p["scope"] == (f"the population of sample {sample.sample_id}: active transcripts "
                          "with channel = web")
    rows = db.con.execute("SELECT DISTINCT transcript_id FROM ppi_inputs").fetchall()
    assert {r[0] for r in rows} == web_ids(db)  # the filter's transcripts, and only them
    y, yhat, unl = analyst_arrays(db, Z)
    assert (len(y), unl.shape) == (150, (450, 1))
    low, high = ppi_py.ppi_mean_ci(y, yhat, unl[:, 0], alpha=0.05, lam=None)
    point = ppi_py.ppi_mean_pointestimate(y, yhat, unl[:, 0], lam=None)
    z = p["verdict_statistic"]
    assert z["estimate"] == pytest.approx(float(point[0]), abs=1e-6)
    assert (z["ci_low"], z["ci_high"]) == (pytest.approx(float(low[0]), abs=1e-6),
                                           pytest.approx(float(high[0]), abs=1e-6))


def test_labels_of_an_unfiltered_sample_count_inside_the_scope_only(web_sample, taxonomy):
    """An unfiltered uniform sample is uniform among the scope's transcripts too: its labeled
    items in scope join the human sample; those outside are not in the population at all.
    Labels from another filter are non-random for this scope, and counted."""
    db, _, truth, sample = web_sample
    everything = draw_sample(db, 200, 9, created_by="test")
    label_sample(db, taxonomy, truth, everything, start=1000)
    email = draw_sample(db, 30, 2, where={"channel": ["email"]}, created_by="test")
    label_sample(db, taxonomy, truth, email, start=2000)
    set_setting(db, "population_scope", sample.sample_id, "test")
    web = web_ids(db)
    extra = len(set(everything.transcript_ids) & web - set(sample.transcript_ids))
    assert 0 < extra < 200
    p = build_report(db, taxonomy).population
    assert (p.method, p.N, p.n, p.n_excluded_nonrandom) == ("ppi++", 600, 150 + extra, 0)
    out = db.con.execute("SELECT count(*) FROM ppi_inputs WHERE transcript_id IN "
                         "(SELECT unnest(?))", [list(email.transcript_ids)]).fetchone()[0]
    assert out == 0
    # back to everything: the unfiltered sample is the human sample, both filtered ones excluded
    set_setting(db, "population_scope", "all", "test")
    p = build_report(db, taxonomy).population
    in_filtered = set(sample.transcript_ids) | set(email.transcript_ids)
    assert (p.N, p.n, p.n_excluded_nonrandom) == (1200, 200, len(in_filtered - set(everything.transcript_ids)))
    assert p.scope == "all active transcripts"


def test_archived_transcripts_leave_the_scope(web_sample, taxonomy):
    db, _, _, sample = web_sample
    set_setting(db, "population_scope", sample.sample_id, "test")
    gone = sorted(web_ids(db) - set(sample.transcript_ids))[:50]
    db.con.execute("UPDATE transcripts SET archived = true WHERE transcript_id IN (SELECT unnest(?))",
                   [gone])
    p = build_report(db, taxonomy).population
    assert (p.method, p.N, p.n) == ("ppi++", 550, 150)


@pytest.mark.parametrize("kind", ["unknown", "stratified", "unfiltered"])
def test_a_scope_that_names_no_filtered_random_sample_is_refused(web_sample, taxonomy, kind):
    db, _, _, _ = web_sample
    named = {"unknown": lambda: "s-nope",
             "stratified": lambda: draw_sample(db, 40, 1, stratify_by="channel").sample_id,
             "unfiltered": lambda: draw_sample(db, 40, 1).sample_id}[kind]()
    set_setting(db, "population_scope", named, "test")
    p = build_report(db, taxonomy).population
    assert p.method == "human-only" and p.scope == f"sample {named}"
    assert p.reason.startswith(f"the population_scope setting names {named!r}, which is not a "
                               "random sample drawn with --where")


def test_the_cli_reports_the_scope(web_sample, capsys):
    db, _, _, sample = web_sample
    path = str(db.path)
    db.close()  # the CLI opens the file itself
    assert cli(["--db", path, "config", "set", "population_scope", sample.sample_id]) == 0
    capsys.readouterr()
    assert cli(["--db", path, "report", "--population"]) == 0
    block = json.loads(capsys.readouterr().out)["population"]
    assert (block["method"], block["N"], block["n"]) == ("ppi++", 600, 150)
    assert block["scope"].startswith(f"the population of sample {sample.sample_id}")
