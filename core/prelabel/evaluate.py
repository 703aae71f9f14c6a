"""How good are the pre-labels? Measured against final human labels, honestly:

- only transcripts whose labels were all made with the pre-label hidden (a shown suggestion
  anchors the reviewer, which would flatter the labeler);
- the LLM's few-shot examples are left out (the model saw their answers);
- the offline model is scored out of fold: k-fold cross-validation (k = 5, fewer with fewer
  labels), each transcript predicted by a model trained without it; never its own training labels.
"""

from __future__ import annotations

import math
import random

import numpy as np

from core.store.connection import Database
from core.store.prelabels import (
    blind_labeled_ids,
    few_shot_ids,
    human_final_labels,
    labeler_used,
    latest_suggestions,
    newest_model,
)
from core.store.transcripts import get_transcripts
from core.taxonomy import Taxonomy

BUCKETS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01))


def _bucket_rows(y_true: list[str], y_pred: list[str], conf: list[float | None]) -> list[dict]:
    rows = []
    for lo, hi in BUCKETS:
        idx = [i for i, c in enumerate(conf) if c is not None and lo <= c < hi]
        if idx:
            acc = sum(y_true[i] == y_pred[i] for i in idx) / len(idx)
            rows.append({"bucket": f"{lo:.1f}–{min(hi, 1.0):.1f}", "n": len(idx), "accuracy": acc})
    return rows


def metrics(y_true: list[str], y_pred: list[str], conf: list[float | None],
            taxonomy: Taxonomy) -> dict:
    """Accuracy, Cohen's kappa, per-category precision/recall/support, the confusion matrix
    (rows: human label, columns: pre-label) and accuracy by confidence bucket."""
    from sklearn.metrics import (  # here, not at import: the Report page draws sooner
        accuracy_score,
        cohen_kappa_score,
        confusion_matrix,
        precision_recall_fscore_support,
    )

    present = set(y_true) | set(y_pred)
    labels = [k for k in taxonomy.keys if k in present] + sorted(present - set(taxonomy.keys))
    # scikit-learn gets integer codes numbered in the labels' sorted order (the order it sorts
    # strings in, so every matrix is laid out as before): checking and sorting 100k strings
    # took it most of a second.
    code = {k: i for i, k in enumerate(sorted(present))}
    true, pred = np.array([code[k] for k in y_true]), np.array([code[k] for k in y_pred])
    coded = [code[k] for k in labels]
    p, r, _, s = precision_recall_fscore_support(true, pred, labels=coded, zero_division=0)
    kappa = cohen_kappa_score(true, pred) if len(present) > 1 else float("nan")
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(true, pred)),
        "kappa": None if math.isnan(kappa) else float(kappa),
        "per_category": {k: {"precision": float(p[i]), "recall": float(r[i]), "support": int(s[i])}
                         for i, k in enumerate(labels)},
        "confusion": {"labels": labels,
                      "matrix": confusion_matrix(true, pred, labels=coded).tolist()},
        "by_confidence": _bucket_rows(y_true, y_pred, conf),
    }


def _evaluate_llm(db: Database, taxonomy: Taxonomy, finals: dict[str, str], blind: set[str]) -> dict | None:
    """The newest LLM model's latest pre-labels on the human-labeled transcripts, scored."""
    model = newest_model(db, "llm")
    if model is None:
        return None
    rows = latest_suggestions(db, "llm", model, list(finals))
    shots = few_shot_ids(db, sorted({r.prompt_version for r in rows}))
    scored = [r for r in rows if r.transcript_id in blind and r.transcript_id not in shots]
    if not scored:
        return None
    result = metrics([finals[r.transcript_id] for r in scored], [r.primary_label for r in scored],
                     [r.confidence for r in scored], taxonomy)
    return {"labeler": "llm", "model": model, **result,
            "n_excluded_shown": sum(r.transcript_id not in blind for r in rows),
            "n_excluded_few_shot": sum(r.transcript_id in shots for r in rows),
            "method": "latest LLM pre-label per transcript against the final human label"}


def offline_out_of_fold(db: Database, taxonomy: Taxonomy, pairs: list[tuple[str, str]]
                        ) -> tuple[list[str], list[str], list[float], list[str], int]:
    """Cross-validated offline predictions: (ids, true, predicted, confidence, k)."""
    from core.prelabel.folds import fold_splitter  # scikit-learn: imported when scored
    from core.prelabel.offline import train_offline

    transcripts = {t.transcript_id: t for t in get_transcripts(db, [i for i, _ in pairs])}
    pairs = [(i, lab) for i, lab in pairs if i in transcripts]
    k, splitter = fold_splitter([lab for _, lab in pairs])
    ids, true, pred, conf = [], [], [], []
    for train_idx, test_idx in splitter.split(pairs, [lab for _, lab in pairs]):
        model = train_offline(taxonomy, [(transcripts[pairs[i][0]], pairs[i][1]) for i in train_idx])
        tests = [pairs[i] for i in test_idx]
        for (tid, lab), s in zip(tests, model.predict([transcripts[t] for t, _ in tests]), strict=True):
            ids.append(tid)
            true.append(lab)
            pred.append(s.label)
            conf.append(s.confidence)
    return ids, true, pred, conf, k


# Out-of-fold predictions are k trainings: keep the latest few, keyed by what determines them
# (a transcript's content never changes under its id).
_OOF_CACHE: dict[tuple, tuple] = {}


def _cached_out_of_fold(db: Database, taxonomy: Taxonomy, pairs: list[tuple[str, str]]) -> tuple:
    key = (str(db.path), taxonomy.version, tuple(pairs))
    if key not in _OOF_CACHE:
        if len(_OOF_CACHE) >= 8:
            _OOF_CACHE.pop(next(iter(_OOF_CACHE)))
        _OOF_CACHE[key] = offline_out_of_fold(db, taxonomy, pairs)
    return _OOF_CACHE[key]


# Cross-validation retrains the model k times: above this many labels, score a seeded random
# subset (its n is what the result reports), so the report stays fast at 100k labels.
MAX_OFFLINE_EVAL = 5000


def _evaluate_offline(db: Database, taxonomy: Taxonomy, finals: dict[str, str], blind: set[str]) -> dict | None:
    from core.prelabel.offline import MIN_TRAINING_LABELS, training_version

    pairs = sorted(finals.items())
    if len(pairs) < 2:
        return None
    if len(pairs) > MAX_OFFLINE_EVAL:
        pairs = sorted(random.Random(0).sample(pairs, MAX_OFFLINE_EVAL))
    ids, true, pred, conf, k = _cached_out_of_fold(db, taxonomy, pairs)
    keep = [i for i, tid in enumerate(ids) if tid in blind]
    if not keep:
        return None
    result = metrics([true[i] for i in keep], [pred[i] for i in keep], [conf[i] for i in keep], taxonomy)
    return {"labeler": "offline", "model": f"offline (trained on {training_version(pairs)})", **result,
            "n_excluded_shown": len(ids) - len(keep), "n_excluded_few_shot": 0,
            "method": (f"{k}-fold cross-validation over {len(pairs)} human labels"
                       f"{' (a seeded random subset)' if len(finals) > len(pairs) else ''}: each transcript "
                       "predicted by a model trained without it (folds with fewer than "
                       f"{MIN_TRAINING_LABELS} training labels use the cold-start rules)")}


def evaluate_prelabels(db: Database, taxonomy: Taxonomy, labeler: str | None = None) -> dict | None:
    """Pre-labeler accuracy against final human labels made blind (see the module docstring).
    `labeler` 'llm' or 'offline'; None → the LLM when it has scorable pre-labels, else the
    offline model when it has made suggestions here (else None: nothing was pre-labeled).
    Returns {labeler, model, n, accuracy, kappa, per_category, confusion, by_confidence,
    n_excluded_shown, n_excluded_few_shot, method}, or None when nothing can be evaluated."""
    if labeler is None and not labeler_used(db, "llm") and not labeler_used(db, "offline"):
        return None  # nothing pre-labeled: skip reading every final label (seconds at 100k)
    keys = set(taxonomy.keys)
    finals = {i: lab for i, lab in human_final_labels(db) if lab in keys}
    blind = blind_labeled_ids(db)
    if labeler == "llm":
        return _evaluate_llm(db, taxonomy, finals, blind)
    if labeler == "offline":
        return _evaluate_offline(db, taxonomy, finals, blind)
    llm = _evaluate_llm(db, taxonomy, finals, blind)
    if llm is not None or not labeler_used(db, "offline"):
        return llm
    return _evaluate_offline(db, taxonomy, finals, blind)
