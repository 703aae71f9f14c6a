"""The report's numbers are a contract (PRODUCT.md data contract, docs/report*.md): the faster
paths of build_report (issue 16.4) give JSON byte-identical to main's path, which is rebuilt
here from its parts: the full population read, composed the same way."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import pytest

from core.labels.agreement import measure_agreement
from core.prelabel.evaluate import evaluate_prelabels
from core.report import build
from core.report.examples import example_items
from core.report.tuning import notes_scatter, read_tuning_data
from core.store import report_data
from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.store.settings import get_setting
from core.taxonomy import load_taxonomy
from tests.demo_helpers import demo_database
from tests.population_helpers import add_population, label_random_sample, llm_prelabels, noisy

WHEN = datetime(2026, 3, 1, 12, 0, 0)
SLICES = ["channel"]


def main_path(db, taxonomy, population: bool | None) -> str:
    """build_report as on main before issue 16.4: every population input read, always."""
    data = report_data.read_report_data(db)
    final = {r.transcript_id: (r.primary_label, r.status) for r in data.rows}
    agreement = measure_agreement(data.label_triples, final, seed=0)
    tuning = read_tuning_data(db, notes_scatter(db))
    slices = {f: report_data.slice_values(db, f) for f in SLICES}
    full = build.PopulationData(build.population_census(db), build.inputs_from_rows(
        build.read_ppi_rows(db, build.CLASSES)))
    report = build.compose_report(data, taxonomy, agreement, evaluate_prelabels(db, taxonomy), WHEN,
                                  slices, population=full,
                                  population_enabled=population is not False, tuning=tuning)
    ranked = sorted((k for k, s in report.categories.items() if s.count),
                    key=lambda k: -report.categories[k].count)[:3]
    examples = example_items(report_data.example_transcripts(db, ranked, 3),
                             get_setting(db, "report_fields"))
    return json.dumps(dataclasses.replace(report, examples=examples).to_dict(), indent=2)


def fast_path(db, taxonomy, population: bool | None) -> str:
    return json.dumps(build.build_report(db, taxonomy, slice_fields=SLICES, generated_at=WHEN,
                                         population=population).to_dict(), indent=2)


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    """The demo (offline pre-labels) and a crafted one (LLM pre-labels, a random sample)."""
    folder = tmp_path_factory.mktemp("same_json")
    demo_database(folder / "demo.duckdb")
    taxonomy = load_taxonomy("default")
    db = connect(folder / "llm.duckdb")
    register_taxonomy(db, taxonomy)
    ids, truth = add_population(db, 300)
    label_random_sample(db, taxonomy, truth, 60)
    llm_prelabels(db, taxonomy, dict(zip(ids, noisy([truth[i] for i in ids], 0.85, taxonomy.keys, 7),
                                         strict=True)))
    db.close()
    return folder


@pytest.mark.parametrize("name", ["demo.duckdb", "llm.duckdb"])
@pytest.mark.parametrize("population", [False, None])
def test_report_json_is_byte_identical_to_mains_path(databases, name, population):
    taxonomy = load_taxonomy("default")
    db = connect(databases / name)
    try:
        fast = fast_path(db, taxonomy, population)
        assert fast == main_path(db, taxonomy, population)
        block = json.loads(fast)["population"]
        assert block["labeler"] is not None and block["n"] > 0  # the pre-labels were read
    finally:
        db.close()


def _view_summary(db):
    """What the ppi_inputs view itself says: its first row's labeler and the transcripts with
    a human fix class."""
    rows = build.read_ppi_rows(db, build.CLASSES)
    if rows is None:
        return None
    return (rows.labeler, rows.labeler_model, rows.prompt_version,
            len(set(rows.transcript[rows.human_class >= 0].tolist())))


@pytest.mark.parametrize("case", ["llm on part", "llm with few-shot", "fit and llm on part"])
def test_the_human_only_summary_is_the_views(databases, tmp_path, case):
    """The block-off path reads the labeler and n without the view (human_only_reads): the
    same as the view on the labeler choices it makes (any LLM pre-labels, an LLM whose prompt
    shows labeled transcripts as few-shot examples, an offline fit beside partial LLM ones)."""
    from core.store.population import human_only_reads
    from core.store.prelabels import save_prompt

    taxonomy = load_taxonomy("default")
    if case == "fit and llm on part":
        path = tmp_path / "demo.duckdb"
        path.write_bytes((databases / "demo.duckdb").read_bytes())
        db = connect(path)
        ids = [r[0] for r in db.con.execute(
            "SELECT transcript_id FROM transcripts ORDER BY 1 LIMIT 100").fetchall()]
        truth = dict.fromkeys(ids, taxonomy.keys[0])
    else:
        db = connect(tmp_path / "x.duckdb")
        register_taxonomy(db, taxonomy)
        all_ids, truth = add_population(db, 200)
        labeled = label_random_sample(db, taxonomy, truth, 60)
        ids = all_ids[:120] if case == "llm on part" else all_ids
        if case == "llm with few-shot":
            save_prompt(db, "p1", labeled[:5], [])
    try:
        llm_prelabels(db, taxonomy, {i: truth[i] for i in ids})
        report_data.prepare_report_tables(db)
        census, summary = human_only_reads(db, build.CLASSES, report_data.ACTIVE_FINAL)
        assert summary is not None and _view_summary(db) == (
            summary.labeler, summary.labeler_model, summary.prompt_version, summary.n)
        assert census.n_labeled == build.population_census(db).n_labeled
    finally:
        db.close()
