"""The k-fold split of human labels, one home for the offline evaluation (each labeled
transcript scored by a model trained without it) and the population's cross-fit (cross-PPI:
the same folds, each fold's model predicting the transcripts it never saw labeled)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sklearn.model_selection import KFold, StratifiedKFold

MAX_FOLDS = 5
SEED = 0


def fold_splitter(labels: Sequence[str]) -> tuple[int, KFold | StratifiedKFold]:
    """k = min(5, n) and a seeded splitter: stratified when every label has at least k examples."""
    k = min(MAX_FOLDS, len(labels))
    if min(Counter(labels).values()) >= k:
        return k, StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    return k, KFold(n_splits=k, shuffle=True, random_state=SEED)


def fold_numbers(labels: Sequence[str]) -> tuple[int, list[int]]:
    """(k, the 1-based fold each position is held out of), from the same seeded split."""
    k, splitter = fold_splitter(labels)
    folds = [0] * len(labels)
    for number, (_, test_idx) in enumerate(splitter.split(list(labels), list(labels)), 1):
        for i in test_idx:
            folds[i] = number
    return k, folds
