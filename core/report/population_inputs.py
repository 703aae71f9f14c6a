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
import pandas as pd

from core.report.ppi import Arrays

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
        return Arrays(y, lab.mean(axis=1), unl if self.cross else unl[:, 0])


def _codes(values: pd.Series, vocabulary: list[str]) -> np.ndarray:
    index = {v: i for i, v in enumerate(vocabulary)}
    return values.map(lambda v: index[v]).to_numpy(dtype=np.int64)


def _grid(frame: pd.DataFrame, column: np.ndarray, k: int, codes: np.ndarray,
          n_transcripts: int) -> np.ndarray:
    """(transcripts, k) of codes; a transcript with one row repeats it in every column."""
    grid = np.full((n_transcripts, k), -1, dtype=np.int64)
    grid[frame["_t"].to_numpy(), column] = codes
    single = grid.max(axis=1, keepdims=True)
    return np.where(grid < 0, single, grid)


def inputs_from_frame(frame: pd.DataFrame) -> PopulationInputs | None:
    """Code the view's rows (read by core.store.population.read_ppi_inputs); None when empty."""
    if frame.empty:
        return None
    frame = frame.copy()
    frame["_t"], tids = pd.factorize(frame["transcript_id"])
    models = sorted(frame["model"].unique(), key=_model_order)
    column = frame["model"].map({m: i for i, m in enumerate(models)}).to_numpy()
    labels = sorted(set(frame["predicted_label"].dropna()) | set(frame["human_label"].dropna()))
    n_t, k = len(tids), len(models)
    p_class = _grid(frame, column, k, _codes(frame["predicted_fix_class"], list(CLASSES)), n_t)
    p_label = _grid(frame, column, k, _codes(frame["predicted_label"].fillna(""), ["", *labels]), n_t)
    human = frame.drop_duplicates("_t").set_index("_t").sort_index()
    is_labeled = human["human_fix_class"].notna().to_numpy()
    first = frame.iloc[0]
    return PopulationInputs(
        labeler=str(first["labeler"]), labeler_model=_text(first["labeler_model"]),
        prompt_version=_text(first["prompt_version"]), k=k, labels=("", *labels),
        y_class=_codes(human["human_fix_class"][is_labeled], list(CLASSES)),
        y_label=_codes(human["human_label"][is_labeled], ["", *labels]),
        labeled_class=p_class[is_labeled], labeled_label=p_label[is_labeled],
        unlabeled_class=p_class[~is_labeled], unlabeled_label=p_label[~is_labeled])


def _model_order(model: str) -> tuple[int, str]:
    number = model.removeprefix("fold-")
    return (int(number), model) if number.isdigit() else (0, model)


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


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
