"""The rows of `ppi_inputs` as the arrays ppi_py takes: per statistic, the human values Y on the
random sample, the predictions Yhat on those transcripts, and the predictions on every other
transcript (N × K for the offline labeler's K fold models, N for an LLM).

How a transcript's rows become its predictions, as an analyst would do it: a labeled
transcript's Yhat is the mean of its rows (the one row of its own fold's model; a transcript
labeled after the fit has K rows, none of whose models saw its label); an unlabeled one gives
one column per fold model, and a transcript with a single row (an offline training transcript
outside the random sample: only its own fold's model never saw its label) repeats it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.report.ppi import Arrays
from core.store.population import PpiRows

CLASSES = ("pipeline", "behavior", "model", "none", "unknown")
FAILURES = ("pipeline", "behavior", "model", "unknown")


@dataclass(frozen=True)
class PopulationInputs:
    """The rows of ppi_inputs, coded: classes index CLASSES, labels index `labels`."""

    labeler: str  # llm | offline
    labeler_model: str | None
    prompt_version: str | None
    k: int  # prediction columns: 1 for an LLM, K fold models offline
    labels: tuple[str, ...]
    y_class: np.ndarray  # (n,)
    y_label: np.ndarray  # (n,)
    labeled_class: np.ndarray  # (n, k) predictions on the labeled transcripts
    labeled_label: np.ndarray
    unlabeled_class: np.ndarray  # (N, k)
    unlabeled_label: np.ndarray

    @property
    def n(self) -> int:
        return len(self.y_class)

    @property
    def n_unlabeled(self) -> int:
        return len(self.unlabeled_class)

    @property
    def cross(self) -> bool:
        return self.labeler == "offline"

    def arrays(self, by_class: dict[str, float] | None = None,
               by_label: dict[str, float] | None = None) -> Arrays:
        """A statistic's arrays: the value of each fix class (or of each label; others 0)."""
        if by_class is not None:
            table = np.array([by_class.get(c, 0.0) for c in CLASSES])
            y, lab, unl = table[self.y_class], table[self.labeled_class], table[self.unlabeled_class]
        else:
            table = np.array([(by_label or {}).get(k, 0.0) for k in self.labels])
            y, lab, unl = table[self.y_label], table[self.labeled_label], table[self.unlabeled_label]
        # ppi_py's cross-PPI reads only the row means of the N × K matrix: passing them as an
        # N × 1 matrix gives the same numbers for K times less work (the root-finding of the
        # shares calls it dozens of times).
        return Arrays(y, lab.mean(axis=1), unl.mean(axis=1, keepdims=True) if self.cross
                      else unl[:, 0])


def _grid(rows: PpiRows, codes: np.ndarray, n_transcripts: int, k: int) -> np.ndarray:
    """(transcripts, k) of codes; a transcript with one row repeats it in every column."""
    grid = np.full((n_transcripts, k), -1, dtype=np.int64)
    grid[rows.transcript, rows.column] = codes
    single = grid.max(axis=1, keepdims=True)
    return np.where(grid < 0, single, grid)


def inputs_from_rows(rows: PpiRows | None) -> PopulationInputs | None:
    """Shape the coded view (core.store.population.read_ppi_rows); None when it is empty."""
    if rows is None:
        return None
    n_t, k = int(rows.transcript.max()) + 1, int(rows.column.max()) + 1
    p_class = _grid(rows, rows.predicted_class, n_t, k)
    none = len(rows.labels)  # a prediction without a label (never stored ok, but be safe)
    p_label = _grid(rows, np.where(rows.predicted_label < 0, none, rows.predicted_label), n_t, k)
    human_class = np.full(n_t, -1, dtype=np.int64)
    human_class[rows.transcript] = rows.human_class
    human_label = np.full(n_t, -1, dtype=np.int64)
    human_label[rows.transcript] = rows.human_label
    is_labeled = human_class >= 0
    return PopulationInputs(
        labeler=str(rows.labeler), labeler_model=rows.labeler_model,
        prompt_version=rows.prompt_version, k=k, labels=(*rows.labels, ""),
        y_class=human_class[is_labeled], y_label=human_label[is_labeled],
        labeled_class=p_class[is_labeled], labeled_label=p_label[is_labeled],
        unlabeled_class=p_class[~is_labeled], unlabeled_label=p_label[~is_labeled])


Statistic = Callable[[PopulationInputs], Arrays]


def verdict_statistic(p: PopulationInputs) -> Arrays:
    """Z: +1 for a pipeline failure, −1 for any other failure (behavior, model, a class still
    unknown), 0 for no failure. Its mean is > 0 exactly when pipeline failures are more than
    half of all failures."""
    return p.arrays({"pipeline": 1.0, "behavior": -1.0, "model": -1.0, "unknown": -1.0})


def behavior_statistic(p: PopulationInputs) -> Arrays:
    """The same for the behavior side: +1 behavior, −1 any other failure, 0 none."""
    return p.arrays({"behavior": 1.0, "pipeline": -1.0, "model": -1.0, "unknown": -1.0})


def failure_indicator(p: PopulationInputs) -> Arrays:
    """1 for a failure of any class (the denominator of the shares)."""
    return p.arrays({c: 1.0 for c in FAILURES})
