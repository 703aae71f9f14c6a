"""The offline labeler (0, 1, 5 and 300 labels) and the honest evaluation."""

from __future__ import annotations

import pytest

from core.prelabel.evaluate import evaluate_prelabels, metrics
from core.prelabel.offline import MIN_TRAINING_LABELS, train_offline
from core.prelabel.run import prelabel_offline_all
from core.store.transcripts import get_transcripts
from tests.conftest import add_transcripts, make_record
from tests.prelabel_helpers import add_labels, synthetic_records


def stored(db):
    return db.con.execute(
        "SELECT transcript_id, labeler, model, prompt_version, status, primary_label, confidence, "
        "rationale, evidence FROM prelabels ORDER BY transcript_id").fetchall()


def seed(db, taxonomy, n, n_labels, noise=0.15):
    pairs = synthetic_records(taxonomy, n, noise=noise)
    add_transcripts(db, [r for r, _ in pairs])
    add_labels(db, taxonomy, [(r["id"], lab) for r, lab in pairs[:n_labels]])
    return pairs


def test_cold_start_with_no_labels_names_the_rule(db, taxonomy):
    pairs = seed(db, taxonomy, 9, 0)
    summary = prelabel_offline_all(db, taxonomy)
    assert summary.done == 9 and summary.model.startswith("offline-rules:n=0:")
    by_id = {r[0]: r for r in stored(db)}
    tool = by_id[pairs[3][0]["id"]]  # missed_tool_call case: tools offered, none called
    assert tool[5] == "missed_tool_call" and tool[6] == 0.55
    assert tool[7].startswith("rule tool_never_called: tools were offered and none was called")
    assert tool[8] == "tools offered: get_order"
    bad_json = by_id[pairs[4][0]["id"]]
    assert bad_json[5] == "schema_format" and bad_json[7].startswith("rule bad_json")
    fine = by_id[pairs[8][0]["id"]]
    assert fine[5] == "no_failure" and fine[7].startswith("rule none: no structural rule fired")
    assert {r[1] for r in by_id.values()} == {"offline"}


@pytest.mark.parametrize("n_labels", [1, 5])
def test_few_labels_still_cold_start_and_every_transcript_gets_one(db, taxonomy, n_labels):
    seed(db, taxonomy, 12, n_labels)
    summary = prelabel_offline_all(db, taxonomy)
    assert summary.done == 12 and summary.model.startswith(f"offline-rules:n={n_labels}:")
    assert all(f"cold start: {n_labels} of {MIN_TRAINING_LABELS}" in r[7] for r in stored(db))


def test_rerun_is_cached_and_new_labels_make_a_new_model_version(db, taxonomy):
    seed(db, taxonomy, 30, 5)
    first = prelabel_offline_all(db, taxonomy)
    again = prelabel_offline_all(db, taxonomy)
    assert (again.planned, again.cached) == (0, 30)
    add_labels(db, taxonomy, [("syn5", "reasoning")], annotator="b")
    third = prelabel_offline_all(db, taxonomy)
    assert third.model != first.model and third.done == 30


def test_300_labels_train_a_calibrated_model(db, taxonomy):
    seed(db, taxonomy, 330, 300)
    summary = prelabel_offline_all(db, taxonomy)
    assert summary.done == 330 and summary.model.startswith("offline-tfidf-logreg:n=300:")
    rows = stored(db)
    unlabeled = {r[0]: r for r in rows if int(r[0][3:]) >= 300}
    truth = {r["id"]: taxonomy.keys[int(r["id"][3:]) % 9] for r, _ in synthetic_records(taxonomy, 330)}
    right = sum(unlabeled[i][5] == truth[i] for i in unlabeled)
    assert right >= 27  # 30 held-out transcripts with clear signals
    assert all(0 < r[6] <= 1 and r[7].startswith("model trained on 300 reviewer labels (calibrated)")
               for r in rows)


def test_offline_evaluation_is_out_of_fold_and_blind_only(db, taxonomy):
    seed(db, taxonomy, 120, 120, noise=0.0)
    # 20 more labels made with the pre-label shown: trained on, never scored
    extra = synthetic_records(taxonomy, 20, noise=0.0, seed=1, prefix="shown")
    add_transcripts(db, [r for r, _ in extra])
    add_labels(db, taxonomy, [(r["id"], lab) for r, lab in extra], prelabel_visible=True)
    result = evaluate_prelabels(db, taxonomy, "offline")
    assert result["labeler"] == "offline" and result["n"] == 120
    assert result["n_excluded_shown"] == 20
    assert result["method"].startswith("5-fold cross-validation over 140 human labels")
    assert result["accuracy"] > 0.9 and result["kappa"] > 0.85
    assert sum(sum(row) for row in result["confusion"]["matrix"]) == 120
    assert sum(b["n"] for b in result["by_confidence"]) == 120
    assert set(result) >= {"labeler", "model", "n", "accuracy", "kappa", "per_category",
                           "confusion", "by_confidence"}


def test_out_of_fold_is_not_in_sample(db, taxonomy):
    """Pure-noise labels: a model scored on its own training labels looks better than chance;
    out of fold it is near chance."""
    pairs = synthetic_records(taxonomy, 90, noise=1.0, seed=3)
    add_transcripts(db, [r for r, _ in pairs])
    add_labels(db, taxonomy, [(r["id"], lab) for r, lab in pairs])
    ts = get_transcripts(db, [r["id"] for r, _ in pairs])
    model = train_offline(taxonomy, [(t, lab) for t, (_, lab) in zip(ts, pairs, strict=True)])
    in_sample = sum(s.label == lab for s, (_, lab) in zip(model.predict(ts), pairs, strict=True)) / 90
    result = evaluate_prelabels(db, taxonomy, "offline")
    # deterministic (seeded data and folds): 0.60 in sample, 0.16 out of fold, chance 0.11
    assert result["accuracy"] < 0.25 and in_sample > 0.5


def test_nothing_to_evaluate_returns_none(db, taxonomy):
    assert evaluate_prelabels(db, taxonomy) is None
    add_transcripts(db, [make_record(1)])
    add_labels(db, taxonomy, [("t1", "reasoning")])
    assert evaluate_prelabels(db, taxonomy, "llm") is None
    assert evaluate_prelabels(db, taxonomy, "offline") is None  # one label cannot be cross-validated


def test_metrics_literal_case(taxonomy):
    r = metrics(["reasoning", "reasoning", "escalation", "no_failure"],
                ["reasoning", "escalation", "escalation", "no_failure"], [0.95, 0.6, 0.8, None], taxonomy)
    assert r["n"] == 4 and r["accuracy"] == 0.75
    assert r["per_category"]["escalation"] == {"precision": 0.5, "recall": 1.0, "support": 1}
    assert r["per_category"]["reasoning"] == {"precision": 1.0, "recall": 0.5, "support": 2}
    assert r["confusion"] == {"labels": ["escalation", "reasoning", "no_failure"],
                              "matrix": [[1, 0, 0], [1, 1, 0], [0, 0, 1]]}
    assert r["by_confidence"] == [{"bucket": "0.5–0.7", "n": 1, "accuracy": 0.0},
                                  {"bucket": "0.7–0.9", "n": 1, "accuracy": 1.0},
                                  {"bucket": "0.9–1.0", "n": 1, "accuracy": 1.0}]
    assert r["kappa"] == pytest.approx(0.6363636, abs=1e-6)


def test_evidence_quote_is_the_whole_sentence_holding_the_signal():
    from core.prelabel.offline import quote_around

    text = ("USER: I was charged twice. Please fix it now\nASSISTANT: As stated in our help "
            "center, duplicate charges are refunded within 5-10 business days. Read the article.")
    at = text.find("refunded")
    assert quote_around(text, at, 8) == ("ASSISTANT: As stated in our help center, duplicate "
                                        "charges are refunded within 5-10 business days.")
    assert quote_around(text, text.find("charged"), 7) == "USER: I was charged twice."
    long = "a " * 300 + "needle " + "b " * 300
    quote = quote_around(long, long.find("needle"), 6)
    assert "needle" in quote and len(quote) < 340 and not quote.startswith(" ")


def _per_row_suggest(model, f):
    """The per-transcript form the vectorised `suggest` replaced (row slice, sort, top 3): kept
    here as the reference it must equal."""
    import numpy as np

    from core.prelabel.features import FEATURE_NAMES
    from core.prelabel.offline import Suggestion, quote_around

    proba = model._clf.predict_proba(f.matrix)
    classes = list(model._clf.classes_)
    names = model._vectorizer.get_feature_names_out()
    lin = model._linear()
    out = []
    for i in range(len(f.signals)):
        j = int(np.argmax(proba[i]))
        coef = (lin.coef_[list(lin.classes_).index(classes[j])] if lin.coef_.shape[0] > 1
                else lin.coef_[0])
        row = f.matrix[i].tocoo()
        contrib = sorted(zip(row.col, row.data * coef[row.col], strict=True), key=lambda p: -p[1])[:3]
        top = [str(names[c]) if c < len(names) else FEATURE_NAMES[c - len(names)]
               for c, v in contrib if v > 0]
        evidence, text = "", f.texts[i]
        for name in top:
            if name in f.signals[i].quotes:
                evidence = f.signals[i].quotes[name]
                break
            pos = text.lower().find(name)
            if pos >= 0:
                evidence = quote_around(text, pos, len(name))
                break
        how = "calibrated" if model.calibrated else "uncalibrated (too few labels per class)"
        out.append(Suggestion(classes[j], float(proba[i, j]),
                              f"model trained on {model.n_labels} reviewer labels ({how}); "
                              f"strongest signals: {', '.join(top) or 'none'}", evidence[:300]))
    return out


@pytest.mark.parametrize("n_labels,keys,calibrated", [
    (300, None, True), (40, None, False), (60, ("reasoning", "escalation"), True)])
def test_bulk_suggestions_equal_the_per_transcript_form(db, taxonomy, n_labels, keys, calibrated):
    """Seeded transcripts, a calibrated, an uncalibrated and a two-class model: the chunk-wide
    explanation gives exactly the labels, confidences, rationales and quotes of the old
    per-transcript one."""
    pairs = synthetic_records(taxonomy, 1200, noise=0.15, seed=7)
    add_transcripts(db, [r for r, _ in pairs])
    ts = get_transcripts(db, [r["id"] for r, _ in pairs])
    train = [(t, lab) for t, (_, lab) in zip(ts, pairs, strict=True) if keys is None or lab in keys]
    model = train_offline(taxonomy, train[:n_labels])
    assert model.trained and model.calibrated == calibrated
    f = model.features(ts)
    bulk = model.suggest(f)
    assert bulk == _per_row_suggest(model, f)
    assert len({s.rationale for s in bulk}) > 20 and sum(bool(s.evidence) for s in bulk) > 100
