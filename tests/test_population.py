"""The population estimate (issue 17) on real DuckDB files: equal to ppi_py on the arrays an
analyst reads back from `ppi_inputs`, the validity rules (non-random labels left out and
counted, stratified samples refused, few-shot examples out of the rectifier, mixed labelers
refused, N = n), cross-fitting against an in-sample model that memorises, the offline run's
stored folds, the seeded coverage simulation, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import ppi_py
import pytest

from core.cli.main import run as cli
from core.labels.samples import draw_sample
from core.prelabel.run import prelabel_offline_all
from core.report.build import build_report
from core.store.prelabels import save_prompt
from tests.population_helpers import (
    add_population,
    distinct_synthetic,
    import_records,
    label_random_sample,
    llm_prelabels,
    noisy,
)
from tests.population_sim import simulate
from tests.prelabel_helpers import synthetic_records
from tests.report_helpers import ann, insert_annotations

Z = {"pipeline": 1.0, "behavior": -1.0, "model": -1.0, "unknown": -1.0, "none": 0.0}


def analyst_arrays(db, value) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What an analyst does with ppi_inputs (docs/population.md): Y and Yhat (the mean of a
    labeled transcript's rows), and the unlabeled predictions, one column per model (a
    transcript with a single row repeats it)."""
    df = db.con.execute("SELECT * FROM ppi_inputs").df()
    def of(column):
        return column.map(lambda c: value.get(c, 0.0))

    df["v"] = of(df["predicted_fix_class"])
    lab = df[df["human_fix_class"].notna()]
    per = lab.groupby("transcript_id").agg(y=("human_fix_class", "first"), yhat=("v", "mean"))
    unl = df[df["human_fix_class"].isna()].pivot(index="transcript_id", columns="model", values="v")
    unl = unl.apply(lambda row: row.fillna(row.dropna().iloc[0]), axis=1)
    return of(per["y"]).to_numpy(float), per["yhat"].to_numpy(float), unl.to_numpy(float)


@pytest.fixture(scope="module")
def llm_population(tmp_path_factory, taxonomy):
    """3,000 transcripts, a uniform random sample of 250 labeled, LLM pre-labels (80%) on all."""
    from core.store.categories import register_taxonomy
    from core.store.connection import connect

    db = connect(tmp_path_factory.mktemp("pop") / "llm.duckdb")
    register_taxonomy(db, taxonomy)
    ids, truth = add_population(db, 3000)
    label_random_sample(db, taxonomy, truth, 250)
    llm_prelabels(db, taxonomy, dict(zip(ids, noisy([truth[i] for i in ids], 0.8, taxonomy.keys, 3),
                                         strict=True)))
    yield db, truth
    db.close()


@pytest.fixture(scope="module")
def taxonomy():
    from core.taxonomy import load_taxonomy

    return load_taxonomy("default")


def test_llm_population_equals_ppi_py_on_arrays_from_ppi_inputs(llm_population):
    db, _ = llm_population
    p = build_report(db, taxonomy_of(db)).to_dict()["population"]
    assert (p["method"], p["N"], p["n"], p["labeler"]) == ("ppi++", 3000, 250, "llm")
    y, yhat, unl = analyst_arrays(db, Z)
    assert unl.shape == (2750, 1)
    low, high = ppi_py.ppi_mean_ci(y, yhat, unl[:, 0], alpha=0.05, lam=None)
    point = ppi_py.ppi_mean_pointestimate(y, yhat, unl[:, 0], lam=None)
    z = p["verdict_statistic"]
    assert z["estimate"] == pytest.approx(float(point[0]), abs=1e-6)
    assert (z["ci_low"], z["ci_high"]) == (pytest.approx(float(low[0]), abs=1e-6),
                                           pytest.approx(float(high[0]), abs=1e-6))
    # the reported λ is the one ppi_mean_ci tunes
    fixed = ppi_py.ppi_mean_ci(y, yhat, unl[:, 0], alpha=0.05, lam=p["lambda"])
    assert float(fixed[0][0]) == pytest.approx(float(low[0]), abs=1e-9)
    assert 0 < p["lambda"] <= 1
    classical = ppi_py.classical_mean_ci(y, alpha=0.05)
    width = float(classical[1] - classical[0])
    assert p["effective_n"] == round(250 * (width / (z["ci_high"] - z["ci_low"])) ** 2) > 250


def test_shares_are_the_roots_of_their_estimating_equation_by_ppi_py(llm_population):
    """Shares of failures by test inversion: at the estimate ppi_py's point estimate of
    E[1{class} − r·1{failure}] is 0; at each bound one end of its 95% interval is 0."""
    db, _ = llm_population
    p = build_report(db, taxonomy_of(db)).to_dict()["population"]
    fail = {"pipeline": 1.0, "behavior": 1.0, "model": 1.0, "unknown": 1.0}
    for cls, share in p["fix_classes"].items():
        a = analyst_arrays(db, {cls: 1.0})
        f = analyst_arrays(db, fail)

        def w(r, a=a, f=f):
            return a[0] - r * f[0], a[1] - r * f[1], a[2][:, 0] - r * f[2][:, 0]

        assert float(ppi_py.ppi_mean_pointestimate(*w(share["estimate"]), lam=None)[0]) == \
            pytest.approx(0, abs=1e-6)
        assert float(ppi_py.ppi_mean_ci(*w(share["ci_low"]), alpha=0.05)[0][0]) == \
            pytest.approx(0, abs=1e-6)
        assert float(ppi_py.ppi_mean_ci(*w(share["ci_high"]), alpha=0.05)[1][0]) == \
            pytest.approx(0, abs=1e-6)
        assert 0 <= share["ci_low"] < share["estimate"] < share["ci_high"] <= 1
    # r = 1/2 is half the verdict statistic: the pipeline share clears 50% iff Z clears 0
    assert (p["fix_classes"]["pipeline"]["ci_low"] > 0.5) == (p["verdict_statistic"]["ci_low"] > 0)


def test_population_verdict_is_used_and_says_so(llm_population):
    db, _ = llm_population
    r = build_report(db, taxonomy_of(db))
    assert r.verdict_basis == "population" and r.verdict == r.population.verdict
    assert "population estimate over all 3,000 transcripts (PPI++, 250 random human labels)" \
        in r.verdict_sentence
    off = build_report(db, taxonomy_of(db), population=False)
    assert off.verdict_basis == "human-only" and off.verdict == off.human_verdict
    assert off.population.reason == "turned off (--no-population)"
    assert off.population.fix_classes["pipeline"].estimate == off.fix_classes["pipeline"].share


def taxonomy_of(db):
    from core.store.settings import get_setting
    from core.taxonomy import load_taxonomy

    return load_taxonomy(get_setting(db, "active_taxonomy"))


@pytest.fixture
def offline_db(db, taxonomy):
    """1,200 synthetic transcripts with clear signals; 240 of a uniform random sample labeled;
    the offline labeler run over all (its cross-fit stored)."""
    pairs = synthetic_records(taxonomy, 1200, noise=0.0, seed=4)
    import_records(db, distinct_synthetic(taxonomy, 1200, seed=4))
    truth = {r["id"]: lab for r, lab in pairs}
    label_random_sample(db, taxonomy, truth, 240, prelabel_visible=False)
    summary = prelabel_offline_all(db, taxonomy)
    assert summary.fold_predictions == 240 + 960 * 5
    return db, truth


def test_offline_population_is_cross_ppi_equal_to_ppi_py(offline_db, taxonomy):
    db, _ = offline_db
    rows = db.con.execute("SELECT model, count(*), count(fold), count(human_fix_class) "
                          "FROM ppi_inputs GROUP BY 1 ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == [f"fold-{k}" for k in range(1, 6)]
    assert sum(r[1] for r in rows) == 240 + 960 * 5 and sum(r[3] for r in rows) == 240
    assert all(r[2] == r[3] for r in rows)  # each labeled transcript: its own fold's one row
    p = build_report(db, taxonomy).to_dict()["population"]
    assert (p["method"], p["folds"], p["lambda"], p["N"], p["n"]) == ("cross-ppi", 5, None, 1200, 240)
    y, yhat, unl = analyst_arrays(db, Z)
    assert unl.shape == (960, 5)
    low, high = ppi_py.crossppi_mean_ci(y, yhat, unl, alpha=0.05)
    z = p["verdict_statistic"]
    assert z["estimate"] == pytest.approx(float(np.squeeze(ppi_py.crossppi_mean_pointestimate(y, yhat, unl))),
                                          abs=1e-6)
    assert (z["ci_low"], z["ci_high"]) == (pytest.approx(float(np.squeeze(low)), abs=1e-6),
                                           pytest.approx(float(np.squeeze(high)), abs=1e-6))


def test_report_reads_the_stored_fit_and_a_rerun_refits_nothing(offline_db, taxonomy):
    db, _ = offline_db
    before = db.con.execute("SELECT fit_id, count(*) FROM prelabel_folds GROUP BY 1").fetchall()
    again = prelabel_offline_all(db, taxonomy)
    assert (again.done, again.fold_predictions) == (0, 0)
    import_records(db, distinct_synthetic(taxonomy, 1, seed=9, prefix="new"), source="late")
    late = prelabel_offline_all(db, taxonomy)
    assert (late.done, late.fold_predictions) == (1, 5)  # the same fit, extended
    after = db.con.execute("SELECT fit_id, count(*) FROM prelabel_folds GROUP BY 1").fetchall()
    assert [f for f, _ in after] == [f for f, _ in before] and after[0][1] == before[0][1] + 5


def test_cross_fitting_is_not_fooled_where_an_in_sample_model_memorises(db, taxonomy):
    """Human labels the text does not predict (random), 45 of them: the offline model trained
    on all of them memorises its training transcripts (each has a word of its own), so PPI
    with its in-sample predictions gives a falsely narrow interval, narrower than the labels
    alone allow although the model knows nothing; the cross-fitted one does not (the report
    falls back to human-only)."""
    import random

    records = distinct_synthetic(taxonomy, 600, seed=5)
    import_records(db, records)
    rng = random.Random(2)
    truth = {r["id"]: rng.choice(taxonomy.keys) for r in records}
    label_random_sample(db, taxonomy, truth, 45)
    prelabel_offline_all(db, taxonomy)
    main = dict(db.con.execute("SELECT p.transcript_id, c.fix_class FROM prelabels p JOIN "
                               "categories c ON c.key = p.primary_label").fetchall())
    labeled = dict(db.con.execute("SELECT DISTINCT transcript_id, human_fix_class FROM ppi_inputs "
                                  "WHERE human_fix_class IS NOT NULL").fetchall())
    in_y = np.array([Z[h] for h in labeled.values()])
    in_yhat = np.array([Z[main[t]] for t in labeled])
    rest = np.array([Z[c] for t, c in main.items() if t not in labeled])
    in_low, in_high = ppi_py.ppi_mean_ci(in_y, in_yhat, rest, alpha=0.05, lam=1)
    c_low, c_high = ppi_py.classical_mean_ci(in_y, alpha=0.05)
    assert np.mean(in_y == in_yhat) > 0.9  # it knows its own training labels by heart
    assert (in_high - in_low)[0] < 0.6 * (c_high - c_low)  # falsely narrow
    y, yhat, unl = analyst_arrays(db, Z)
    assert np.mean(y == yhat) < 0.6  # out of fold: no better than the label mix
    x_low, x_high = ppi_py.crossppi_mean_ci(y, yhat, unl, alpha=0.05)
    assert (x_high - x_low) > (c_high - c_low)
    p = build_report(db, taxonomy).population
    assert p.method == "human-only" and p.reason.startswith("the pre-labels would widen")


@pytest.fixture
def small_llm(db, taxonomy):
    ids, truth = add_population(db, 400)
    label_random_sample(db, taxonomy, truth, 100)
    llm_prelabels(db, taxonomy, {t: truth[t] for t in ids})
    return db, ids, truth


def test_non_random_labels_are_left_out_and_counted(small_llm, taxonomy):
    db, ids, truth = small_llm
    sampled = set(db.con.execute("SELECT transcript_id FROM sample_items").fetchall())
    others = [t for t in ids if (t,) not in sampled][:40]
    insert_annotations(db, [ann(taxonomy, t, "ann", truth[t], 500 + i, queue="low_confidence")
                            for i, t in enumerate(others)])
    p = build_report(db, taxonomy).population
    assert (p.method, p.n, p.n_excluded_nonrandom) == ("ppi++", 100, 40)
    assert db.con.execute("SELECT count(*) FROM ppi_inputs WHERE human_fix_class IS NOT NULL "
                          "AND transcript_id IN (SELECT unnest(?))", [others]).fetchone() == (0,)
    assert "40 labels from non-random queues" in render_text(db, taxonomy)


def render_text(db, taxonomy) -> str:
    from core.report.render import render_markdown

    return render_markdown(build_report(db, taxonomy), taxonomy)


def test_stratified_sample_without_weights_is_refused(db, taxonomy):
    ids, truth = add_population(db, 300)
    llm_prelabels(db, taxonomy, {t: truth[t] for t in ids})
    sample = draw_sample(db, 60, 3, stratify_by="channel")
    insert_annotations(db, [ann(taxonomy, t, "ann", truth[t], i, sample_id=sample.sample_id)
                            for i, t in enumerate(sample.transcript_ids)])
    r = build_report(db, taxonomy)
    assert r.population.method == "human-only" and r.verdict_basis == "human-only"
    assert f"stratified sample without weights ({sample.sample_id} (60 labeled))" in r.population.reason
    assert r.population.n_excluded_nonrandom == 60


def test_mixed_labeler_versions_are_refused_naming_them(small_llm, taxonomy):
    db, ids, truth = small_llm
    llm_prelabels(db, taxonomy, {t: truth[t] for t in ids[:150]}, prompt_version="p2")
    p = build_report(db, taxonomy).population
    assert p.method == "human-only"
    assert p.reason.startswith("the pre-labels are a mix of labelers or versions (llm sim-model "
                               "prompt p1 on 250; llm sim-model prompt p2 on 150; 400 active")


def test_partial_coverage_is_named_and_auto_mode_stays_human_only(db, taxonomy, capsys):
    ids, truth = add_population(db, 200)
    label_random_sample(db, taxonomy, truth, 50)
    llm_prelabels(db, taxonomy, {t: truth[t] for t in ids[:120]})
    p = build_report(db, taxonomy).population
    assert p.method == "human-only" and "llm sim-model prompt p1 on 120; 200 active" in p.reason
    db.close()  # the CLI opens the file itself
    assert cli(["--db", str(db.path), "report", "--population"]) == 0
    captured = capsys.readouterr()
    assert "note: no population estimate: no one labeler has pre-labeled every" in captured.err
    assert json.loads(captured.out)["population"]["method"] == "human-only"


def test_few_shot_examples_stay_out_of_the_rectifier(db, taxonomy):
    ids, truth = add_population(db, 400)
    sampled = label_random_sample(db, taxonomy, truth, 100)
    shots = sampled[:4]
    save_prompt(db, "p1", shots, [])
    llm_prelabels(db, taxonomy, {t: truth[t] for t in ids if t not in shots})
    p = build_report(db, taxonomy).population
    assert (p.method, p.n, p.N, p.n_excluded_few_shot) == ("ppi++", 96, 396, 4)
    assert "4 transcripts shown to the LLM as few-shot examples" in p.notes[0]


def test_everything_labeled_means_the_human_only_verdict_stands(db, taxonomy):
    ids, truth = add_population(db, 120)
    label_random_sample(db, taxonomy, truth, 120)
    llm_prelabels(db, taxonomy, {t: truth[t] for t in ids})
    r = build_report(db, taxonomy)
    assert r.population.method == "human-only" and r.verdict == r.human_verdict
    assert r.population.reason.startswith("every transcript in scope is in the human sample "
                                          "(N = n = 120)")


@pytest.mark.parametrize(("pipeline", "verdict"), [(114, "pipeline_first"), (113, "inconclusive")])
def test_human_only_boundary_unchanged(db, taxonomy, pipeline, verdict):
    from tests.report_helpers import labeled_set

    labeled_set(db, taxonomy, {"wrong_retrieval": pipeline, "tone_policy": 200 - pipeline})
    r = build_report(db, taxonomy)
    assert (r.verdict, r.verdict_basis, r.population.method) == (verdict, "human-only", "human-only")
    assert r.population.reason.startswith("no pre-labels")


def test_plan_counts_labels_for_a_target_half_width(llm_population, capsys):
    from core.report.label_plan import plan_labels

    db, _ = llm_population
    plan = plan_labels(db, 0.03)
    assert (plan.fix_class, plan.n_now, plan.N, plan.method) == ("pipeline", 250, 3000, "ppi++")
    assert 250 < plan.population_n < plan.human_only_n
    assert plan.more == plan.population_n - 250
    assert plan.lines()[-1] == f"label {plan.more:,} more from the random sample"
    assert cli(["--db", str(db.path), "plan", "--half-width", "0.7"]) == 2
    assert "--half-width must be between 0 and 0.5" in capsys.readouterr().err


@pytest.mark.parametrize(("labeler", "method"), [("good", "ppi++"), ("useless", "ppi++"),
                                                 ("good", "cross-ppi"), ("useless", "cross-ppi")])
def test_seeded_coverage_simulation(labeler, method):
    """300 synthetic populations each (the benchmark runs 1,000): 95% coverage within
    [0.93, 0.97]; a good labeler narrows the interval, a useless one does not widen it with
    PPI++, and with cross-PPI (λ = 1) the report falls back to human-only whenever it would."""
    r = simulate(labeler, method, 300, seed=11)
    assert 0.93 <= r.coverage <= 0.97 and 0.93 <= r.coverage_reported <= 0.97
    if labeler == "good":
        assert r.width < 0.7 * r.human_width
    elif method == "ppi++":
        assert r.width <= 1.02 * r.human_width
    else:
        assert r.width > r.human_width and r.width_reported == pytest.approx(r.human_width)
        assert r.fallback_share == 1.0


def test_frames_are_read_in_one_shape(llm_population):
    """ppi_inputs keeps the contract's columns first, in order."""
    db, _ = llm_population
    cols = [c[0] for c in db.con.execute("DESCRIBE ppi_inputs").fetchall()]
    assert cols[:5] == ["transcript_id", "human_fix_class", "predicted_fix_class", "model", "fold"]
    assert isinstance(db.con.execute("SELECT * FROM ppi_inputs LIMIT 1").df(), pd.DataFrame)
