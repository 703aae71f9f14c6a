"""Cross-fitting the offline labeler for the population estimate (cross-PPI, Zrnic & Candès
2024). The offline model learns from the very human labels the estimate corrects with, so its
predictions on those transcripts would be too good (it memorises them). Instead: the human
labels are split into the offline evaluation's K folds (core/prelabel/folds.py); fold k's model
is trained without fold k; a training transcript is predicted by the model that left its fold
out, every other transcript by each of the K models.

The K models share the main model's features (TF-IDF vocabulary and weights, structural
signals): those are fit without labels, so sharing them tells no fold model any held-out label,
and a transcript's features are computed once for all K + 1 models."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from core.prelabel.folds import fold_numbers, fold_splitter
from core.prelabel.offline import (
    FEATURES_VERSION,
    MIN_TRAINING_LABELS,
    Features,
    OfflineModel,
    cold_start,
    fit_classifier,
)
from core.store.population import Fit, FoldPrediction
from core.store.transcripts import Transcript
from core.taxonomy import Taxonomy


def fit_identity(model: OfflineModel, labels: list[str], taxonomy: Taxonomy) -> Fit:
    """The fit this model and these training labels make (fit_id hashes what determines it):
    known before any training, so a plan can tell whether the stored fit is current."""
    k = fold_splitter(labels)[0] if len(labels) >= 2 else 0
    key = f"{model.version}|k={k}|{FEATURES_VERSION}|{taxonomy.version}"
    fit_id = "fit-" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return Fit(fit_id, model.version, FEATURES_VERSION, taxonomy.version, k, len(labels))


@dataclass
class CrossFit:
    """K fold models over the main model's features; None for a fold that has too few labels
    (or one class) to train on: the cold-start rules answer for it, as in the evaluation."""

    fit: Fit
    model: OfflineModel
    classifiers: list
    fold_of: dict[str, int]

    def predict(self, transcripts: list[Transcript], features: Features) -> list[FoldPrediction]:
        """Fold predictions: one row (its own fold's model) for a training transcript, K rows
        for any other."""
        labels = [self._fold_labels(j, features) for j in range(self.fit.k)]
        out = []
        for i, t in enumerate(transcripts):
            own = self.fold_of.get(t.transcript_id)
            for j in ([own - 1] if own else range(self.fit.k)):
                label, confidence = labels[j][i]
                out.append(FoldPrediction(t.transcript_id, t.content_hash, f"fold-{j + 1}", own,
                                          label, confidence))
        return out

    def _fold_labels(self, j: int, f: Features) -> list[tuple[str, float]]:
        clf = self.classifiers[j]
        if clf is None:
            rules = (cold_start(s, self.model.taxonomy, self.fit.n_train) for s in f.signals)
            return [(s.label, s.confidence) for s in rules]
        with threadpool_limits(1):
            proba = clf.predict_proba(f.matrix)
        best = np.argmax(proba, axis=1)
        labels = clf.classes_[best].tolist()
        return list(zip(labels, proba[np.arange(len(best)), best].tolist(), strict=True))


def cross_fit(taxonomy: Taxonomy, model: OfflineModel, labeled: list[tuple[Transcript, str]]
              ) -> tuple[CrossFit, list[FoldPrediction]]:
    """Train the K fold models on the main model's training labels (`labeled`, in the order
    it was trained on) and predict the training transcripts out of fold."""
    labeled = [(t, lab) for t, lab in labeled if lab in taxonomy.keys]
    labels = [lab for _, lab in labeled]
    fit = fit_identity(model, labels, taxonomy)
    if fit.k < 2:
        return CrossFit(fit, model, [], {}), []
    k, folds = fold_numbers(labels)
    transcripts = [t for t, _ in labeled]
    features = model.features(transcripts)
    classifiers = [_fold_classifier(features, labels, folds, j + 1, model.trained)
                   for j in range(k)]
    cf = CrossFit(fit, model, classifiers,
                  {t.transcript_id: f for t, f in zip(transcripts, folds, strict=True)})
    return cf, cf.predict(transcripts, features)


def _fold_classifier(f: Features, labels: list[str], folds: list[int], fold: int, trained: bool):
    keep = [i for i, x in enumerate(folds) if x != fold]
    train = [labels[i] for i in keep]
    if not trained or len(train) < MIN_TRAINING_LABELS or len(Counter(train)) < 2:
        return None
    return fit_classifier(f.matrix[keep], train)[0]
