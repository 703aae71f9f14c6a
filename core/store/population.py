"""The population estimate's storage (issue 17): the offline labeler's cross-fitted predictions
(`prelabel_fits`, `prelabel_folds`), the `ppi_inputs` view the estimate reads, and the counts
its validity rules need (who pre-labeled what, which labels are from a uniform random sample)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa

from core.store.connection import Database, utcnow
from core.store.prelabels import Prelabel, insert_prelabels
from core.store.settings import get_setting

FOLD_COLUMNS = ("fit_id", "transcript_id", "content_hash", "model", "fold", "primary_label",
                "confidence", "created_at")
INPUT_COLUMNS = ("transcript_id", "human_fix_class", "predicted_fix_class", "model", "fold",
                 "human_label", "predicted_label", "labeler", "labeler_model", "prompt_version")


@dataclass(frozen=True)
class Fit:
    """One cross-fit of the offline labeler: K models, each trained without one fold."""

    fit_id: str
    model: str
    features_version: str
    taxonomy_version: str
    k: int
    n_train: int
    created_at: datetime | None = None


@dataclass(frozen=True)
class FoldPrediction:
    """One fold model's suggestion for one transcript (`fold` set for a training transcript:
    the fold it was held out of)."""

    transcript_id: str
    content_hash: str | None
    model: str  # fold-1 … fold-K
    fold: int | None
    primary_label: str
    confidence: float


@dataclass(frozen=True)
class Coverage:
    """How many active transcripts one labeler (and version) has pre-labeled."""

    labeler: str
    model: str
    version: str
    n: int


@dataclass(frozen=True)
class Census:
    """The counts the population's validity rules rest on."""

    n_active: int
    coverage: tuple[Coverage, ...]  # latest LLM pre-label per transcript by version; the fit
    n_few_shot: int  # active transcripts shown as few-shot examples to the LLM versions in use
    n_labeled: int  # active transcripts with a settled final human label
    n_random_open: int  # in the random sample, but an open disagreement
    n_random_few_shot: int  # in the random sample and labeled, but a few-shot example
    n_nonrandom: int  # labeled, not in a uniform random sample (queues, filters, strata)
    stratified: tuple[tuple[str, int], ...]  # (sample_id, its labeled transcripts) among those
    scope: str = "all active transcripts"  # what N counts (the population_scope setting)
    scope_problem: str | None = None  # why the setting names no usable scope


def latest_fit(db: Database) -> Fit | None:
    """The fit `ppi_inputs` reads (the newest), or None."""
    row = db.con.execute(
        "SELECT fit_id, model, features_version, taxonomy_version, k, n_train, created_at "
        "FROM prelabel_fits ORDER BY created_at DESC, fit_id DESC LIMIT 1").fetchone()
    return None if row is None else Fit(*row)


def fit_transcripts(db: Database, fit_id: str) -> set[str]:
    """Transcripts that already have predictions in this fit."""
    return {r[0] for r in db.con.execute(
        "SELECT DISTINCT transcript_id FROM prelabel_folds WHERE fit_id = ?", [fit_id]).fetchall()}


def _fold_table(fit_id: str, rows: list[FoldPrediction]) -> pa.Table:
    now = utcnow()
    return pa.table({
        "fit_id": pa.array([fit_id] * len(rows), pa.string()),
        "transcript_id": pa.array([r.transcript_id for r in rows], pa.string()),
        "content_hash": pa.array([r.content_hash for r in rows], pa.string()),
        "model": pa.array([r.model for r in rows], pa.string()),
        "fold": pa.array([r.fold for r in rows], pa.int32()),
        "primary_label": pa.array([r.primary_label for r in rows], pa.string()),
        "confidence": pa.array([r.confidence for r in rows], pa.float64()),
        "created_at": pa.array([now] * len(rows), pa.timestamp("us")),
    })


def _insert_folds(db: Database, fit_id: str, rows: list[FoldPrediction]) -> None:
    if not rows:
        return
    con = db.con
    con.register("_fold_rows", _fold_table(fit_id, rows))
    try:
        con.execute(f"INSERT INTO prelabel_folds ({', '.join(FOLD_COLUMNS)}) "
                    f"SELECT {', '.join(FOLD_COLUMNS)} FROM _fold_rows")
    finally:
        con.unregister("_fold_rows")


def start_fit(db: Database, fit: Fit, rows: list[FoldPrediction]) -> None:
    """Record a new fit with its training transcripts' out-of-fold predictions, and drop every
    older fit (a cache: the newest fit is the one that counts), in one transaction."""
    with db.transaction():
        con = db.con
        con.execute("DELETE FROM prelabel_folds WHERE fit_id <> ?", [fit.fit_id])
        con.execute("DELETE FROM prelabel_fits WHERE fit_id <> ?", [fit.fit_id])
        con.execute("INSERT INTO prelabel_fits VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [fit.fit_id, fit.model, fit.features_version, fit.taxonomy_version, fit.k,
                     fit.n_train, fit.created_at or utcnow()])
        _insert_folds(db, fit.fit_id, rows)


def save_offline_chunk(db: Database, prelabels: list[Prelabel], fit_id: str | None,
                       folds: list[FoldPrediction]) -> None:
    """One chunk of an offline run: its suggestions and its fold predictions, one transaction."""
    if not prelabels and not folds:
        return
    with db.transaction():
        insert_prelabels(db, prelabels)
        if fit_id is not None:
            _insert_folds(db, fit_id, folds)


@dataclass(frozen=True)
class PpiRows:
    """The `ppi_inputs` view as integer codes, one entry per row (500k rows at 100k
    transcripts read in a fraction of a second, where strings through pandas took seconds):
    `transcript` numbers the transcripts 0…; `column` is the model (fold-k → k − 1, all → 0);
    classes index `classes` (−1 for a NULL human class), labels index `labels`."""

    transcript: np.ndarray
    column: np.ndarray
    human_class: np.ndarray
    predicted_class: np.ndarray
    human_label: np.ndarray
    predicted_label: np.ndarray
    labels: tuple[str, ...]
    labeler: str | None
    labeler_model: str | None
    prompt_version: str | None


_CODES = """
SELECT dense_rank() OVER (ORDER BY transcript_id) - 1 AS transcript,
       CASE WHEN model LIKE 'fold-%' THEN CAST(model[6:] AS INTEGER) - 1 ELSE 0 END AS col,
       coalesce(list_position($classes, human_fix_class), 0) - 1 AS human_class,
       list_position($classes, predicted_fix_class) - 1 AS predicted_class,
       coalesce(list_position($labels, human_label), 0) - 1 AS human_label,
       coalesce(list_position($labels, predicted_label), 0) - 1 AS predicted_label
FROM _ppi_rows
"""


def read_ppi_rows(db: Database, classes: tuple[str, ...]) -> PpiRows | None:
    """The view, coded (see PpiRows); None when it is empty. Materialised once per call in a
    connection-local temp table so the codes and the label list come from the same rows."""
    con = db.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ppi_rows AS SELECT {', '.join(INPUT_COLUMNS)} "
                "FROM ppi_inputs")
    meta = con.execute("SELECT labeler, labeler_model, prompt_version FROM _ppi_rows LIMIT 1"
                       ).fetchone()
    if meta is None:
        return None
    labels = [r[0] for r in con.execute(
        "SELECT DISTINCT x FROM (SELECT predicted_label AS x FROM _ppi_rows UNION ALL "
        "SELECT human_label FROM _ppi_rows) WHERE x IS NOT NULL ORDER BY x").fetchall()]
    got = con.execute(_CODES, {"classes": list(classes), "labels": labels}).fetchnumpy()
    con.execute("DROP TABLE _ppi_rows")
    arr = {k: np.asarray(v, dtype=np.int64) for k, v in got.items()}
    return PpiRows(arr["transcript"], arr["col"], arr["human_class"], arr["predicted_class"],
                   arr["human_label"], arr["predicted_label"], tuple(labels), *meta)


_HUMAN_COUNTS = """
WITH f AS (
    SELECT f.transcript_id, f.primary_label,
           f.transcript_id IN (SELECT transcript_id FROM {random}) AS in_random,
           f.transcript_id IN (SELECT unnest(?::VARCHAR[])) AS few_shot
    FROM {final} f JOIN ppi_population USING (transcript_id)
)
SELECT count(*) FILTER (WHERE primary_label IS NOT NULL),
       count(*) FILTER (WHERE primary_label IS NULL AND in_random),
       count(*) FILTER (WHERE primary_label IS NOT NULL AND in_random AND few_shot),
       count(*) FILTER (WHERE primary_label IS NOT NULL AND NOT in_random)
FROM f
"""

_STRATIFIED = """
SELECT s.sample_id, count(DISTINCT i.transcript_id)
FROM samples s JOIN sample_items i USING (sample_id)
JOIN {final} f ON f.transcript_id = i.transcript_id AND f.primary_label IS NOT NULL
JOIN ppi_population p ON p.transcript_id = i.transcript_id
WHERE (s.method = 'stratified' OR s.stratify_by IS NOT NULL)
  AND i.transcript_id NOT IN (SELECT transcript_id FROM ppi_random_sample)
GROUP BY 1 ORDER BY 2 DESC, 1
"""


def _coverage(db: Database) -> tuple[Coverage, ...]:
    llm = db.con.execute(
        "SELECT model, prompt_version, count(*) FROM ppi_llm_latest JOIN ppi_population "
        "USING (transcript_id) GROUP BY ALL ORDER BY 3 DESC, 1, 2").fetchall()
    fit = db.con.execute(
        "SELECT f.model, f.fit_id, count(DISTINCT p.transcript_id) FROM prelabel_fits f "
        "JOIN prelabel_folds p USING (fit_id) JOIN ppi_population USING (transcript_id) "
        "GROUP BY ALL").fetchall()
    return tuple(Coverage("llm", m, v, n) for m, v, n in llm) + tuple(
        Coverage("offline", m, v, n) for m, v, n in fit)


def population_scope(db: Database) -> tuple[str, str | None]:
    """(what the population is, why the population_scope setting cannot be used or None),
    as the ppi_scope view reads the setting."""
    named = get_setting(db, "population_scope")
    if named == "all":
        return "all active transcripts", None
    row = db.con.execute("SELECT sample_id, filter FROM ppi_scope").fetchone()
    if row is None:
        return f"sample {named}", (
            f"the population_scope setting names {named!r}, which is not a random sample drawn "
            "with --where (`triage sample --n 300 --where FIELD=VALUE`, no --stratify-by): set "
            "it to `all` or to such a sample's id (the one `triage sample` printed)")
    shown = " and ".join(f"{k} = {' or '.join(v)}" for k, v in json.loads(row[1]).items())
    return f"the population of sample {row[0]}: active transcripts with {shown}", None


# The final labels the census reads: the view, or the report's copy of its active rows
# (core/store/report_data.py ACTIVE_FINAL, materialised once per report build).
FINAL = "final_labels"


def population_census(db: Database, final: str = FINAL) -> Census:
    """Count what the validity rules need: coverage by labeler, few-shot examples, and which
    labels are from a uniform random sample. `final`: the final labels' table or view."""
    con = db.con
    shots = [r[0] for r in con.execute(
        "SELECT DISTINCT unnest(few_shot_ids) FROM prelabel_prompts WHERE prompt_version IN "
        "(SELECT prompt_version FROM ppi_llm_latest)").fetchall()]
    n_active = con.execute("SELECT count(*) FROM ppi_population").fetchone()[0]
    n_shots = con.execute(
        "SELECT count(*) FROM ppi_population WHERE transcript_id IN "
        "(SELECT unnest(?::VARCHAR[]))", [shots]).fetchone()[0]
    labeled, open_random, shot_random, nonrandom = con.execute(
        _HUMAN_COUNTS.format(final=final, random="ppi_random_sample"), [shots]).fetchone()
    return Census(n_active, _coverage(db), n_shots, labeled, open_random, shot_random, nonrandom,
                  tuple(con.execute(_STRATIFIED.format(final=final)).fetchall()),
                  *population_scope(db))


@dataclass(frozen=True)
class PpiSummary:
    """What a human-only block tells of the `ppi_inputs` view: its labeler and how many of
    its transcripts have a human fix class (PopulationInputs.n), without coding the rows."""

    labeler: str
    labeler_model: str | None
    prompt_version: str | None
    n: int


# What a human-only block tells of `ppi_inputs` (PpiSummary), read without the view: its
# labeler, chosen as the view chooses it (m045: the LLM when its newest pre-labels cover the
# scope with one model and prompt, else the newest offline fit, else any LLM pre-labels), and
# its transcripts with a human fix class, over the report's own copy of the final labels
# ({final}) and of the random sample ({random}). The view evaluates final_labels and the random
# sample again, which was a third of a report without the block at 100k. tests/test_report_same_json.py
# checks the two agree.
_SUMMARY = """
WITH active AS (SELECT transcript_id FROM ppi_population),
latest AS (SELECT transcript_id, model, prompt_version FROM ppi_llm_latest
           WHERE transcript_id IN (SELECT transcript_id FROM active)),
few_shot AS (
    SELECT DISTINCT unnest(few_shot_ids) AS transcript_id FROM prelabel_prompts
    WHERE prompt_version IN (SELECT prompt_version FROM latest)
),
llm_whole AS (
    SELECT count(*) > 0 AND count(DISTINCT (model, prompt_version)) = 1 AND NOT EXISTS (
        SELECT 1 FROM active a
        WHERE a.transcript_id NOT IN (SELECT transcript_id FROM latest)
          AND a.transcript_id NOT IN (SELECT transcript_id FROM few_shot)) AS whole
    FROM latest
),
fit AS (SELECT * FROM prelabel_fits ORDER BY created_at DESC, fit_id DESC LIMIT 1),
chosen AS (
    SELECT CASE WHEN (SELECT whole FROM llm_whole) THEN 'llm'
                WHEN EXISTS (SELECT 1 FROM fit) THEN 'offline'
                WHEN EXISTS (SELECT 1 FROM latest) THEN 'llm' END AS labeler
),
preds AS (
    SELECT transcript_id, 'llm' AS labeler, model AS labeler_model, prompt_version
    FROM latest WHERE (SELECT labeler FROM chosen) = 'llm'
    UNION ALL
    SELECT f.transcript_id, 'offline', fit.model, fit.features_version
    FROM prelabel_folds f JOIN fit USING (fit_id) JOIN active USING (transcript_id)
    WHERE (SELECT labeler FROM chosen) = 'offline'
),
human AS (
    SELECT f.transcript_id FROM {final} f
    WHERE f.primary_label IS NOT NULL
      AND list_position($classes, coalesce(f.fix_class, 'unknown')) IS NOT NULL
      AND f.transcript_id IN (SELECT transcript_id FROM {random})
      AND ((SELECT labeler FROM chosen) IS DISTINCT FROM 'llm'
           OR f.transcript_id NOT IN (SELECT transcript_id FROM few_shot))
)
SELECT any_value(struct_pack(l := p.labeler, m := p.labeler_model, v := p.prompt_version)),
       count(DISTINCT p.transcript_id) FILTER (WHERE h.transcript_id IS NOT NULL)
FROM preds p LEFT JOIN human h USING (transcript_id)
"""


def human_only_reads(db: Database, classes: tuple[str, ...],
                     final: str = FINAL) -> tuple[Census, PpiSummary | None]:
    """What a human-only block shows (the population block turned off), over `final` (the
    final labels' table or view) and one copy of the random sample: the census's counts of
    the active transcripts and of the random sample (coverage and strata, which only the
    validity rules read, left empty), and the summary of ppi_inputs (None when it is empty,
    as read_ppi_rows)."""
    con = db.con
    con.execute("CREATE OR REPLACE TEMP TABLE _ppi_random AS SELECT transcript_id "
                "FROM ppi_random_sample")
    try:
        shots = [r[0] for r in con.execute(
            "SELECT DISTINCT unnest(few_shot_ids) FROM prelabel_prompts WHERE prompt_version IN "
            "(SELECT prompt_version FROM ppi_llm_latest)").fetchall()]
        n_active = con.execute("SELECT count(*) FROM ppi_population").fetchone()[0]
        labeled, open_random, shot_random, nonrandom = con.execute(
            _HUMAN_COUNTS.format(final=final, random="_ppi_random"), [shots]).fetchone()
        census = Census(n_active, (), 0, labeled, open_random, shot_random, nonrandom, (),
                        *population_scope(db))
        meta, n = con.execute(_SUMMARY.format(final=final, random="_ppi_random"),
                              {"classes": list(classes)}).fetchone()
    finally:
        con.execute("DROP TABLE IF EXISTS _ppi_random")
    summary = None if meta is None else PpiSummary(str(meta["l"]), meta["m"], meta["v"], n)
    return census, summary
