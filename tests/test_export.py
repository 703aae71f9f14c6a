"""Exports on a real labeled database, through the CLI."""

from __future__ import annotations

import csv
import json

import duckdb
import pytest

from core.analysts.eval_sets import tuning_example
from core.cli.main import run
from core.ingest.pipeline import import_file
from core.store.connection import connect
from tests.analysts_helpers import fill


@pytest.fixture
def labeled(db, taxonomy, db_path):
    fill(db, taxonomy)
    db.close()
    return db_path


def cli(db_path, *args):
    return run(["--db", str(db_path), "export", *args])


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_transcripts_jsonl_reimports_into_a_fresh_database_with_the_same_rows(labeled, tmp_path):
    out = tmp_path / "t.jsonl"
    assert cli(labeled, "--what", "transcripts", "--output", str(out)) == 0
    records = read_jsonl(out)
    assert set(records[0]) == {"id", "messages", "metadata", "context", "tools"}
    assert set(records[2]) == {"id", "messages", "metadata"}  # absent keys left out
    fresh = connect(tmp_path / "fresh.duckdb")
    assert import_file(fresh, out).rows_imported == len(records)
    sql = ("SELECT transcript_id, messages, context, tools, metadata, content_hash, n_messages, "
           "has_tool_calls, n_chars FROM transcripts ORDER BY 1")
    original = connect(labeled, read_only=True)
    assert fresh.con.execute(sql).fetchall() == original.con.execute(sql).fetchall()
    assert len(records) == 10


def test_annotations_csv_keeps_secondary_labels_as_json(labeled, tmp_path):
    out = tmp_path / "a.csv"
    assert cli(labeled, "--what", "annotations", "--format", "csv", "--output", str(out)) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 11
    t5 = next(r for r in rows if r["transcript_id"] == "t5")
    assert json.loads(t5["secondary_labels"]) == ["noisy_context"]


def test_transcripts_csv_keeps_messages_as_json(labeled, tmp_path):
    out = tmp_path / "t.csv"
    assert cli(labeled, "--what", "transcripts", "--format", "csv", "--output", str(out)) == 0
    rows = list(csv.DictReader(out.open()))
    assert json.loads(rows[0]["messages"])[2]["tool_calls"][0]["function"]["name"] == "lookup_order"


def test_final_labels_parquet_has_one_row_per_labeled_transcript(labeled, tmp_path):
    out = tmp_path / "f.parquet"
    assert cli(labeled, "--what", "final-labels", "--format", "parquet", "--output", str(out)) == 0
    rows = duckdb.sql(f"SELECT transcript_id, primary_label, status FROM '{out}' ORDER BY 1").fetchall()
    assert rows[4] == ("t4", None, "disagreement")
    assert rows[0] == ("t0", "missed_tool_call", "agreed")
    assert len(rows) == 8


def test_prelabels_jsonl_lists_every_suggestion(labeled, tmp_path):
    out = tmp_path / "p.jsonl"
    assert cli(labeled, "--what", "prelabels", "--output", str(out)) == 0
    rows = read_jsonl(out)
    assert len(rows) == 8 and {r["labeler"] for r in rows} == {"llm"}


def test_eval_set_is_stratified_and_rare_labels_go_to_test(labeled, tmp_path, capsys):
    out = tmp_path / "evalset"
    assert cli(labeled, "--what", "eval-set", "--output", str(out), "--seed", "0") == 0
    dev, test = read_jsonl(out / "dev.jsonl"), read_jsonl(out / "test.jsonl")
    # final labels: missed_tool_call ×2, tone_policy ×2, then one each of wrong_retrieval,
    # no_failure, escalation (t4 is an open disagreement: left out)
    assert sorted(r["label"] for r in dev) == ["missed_tool_call", "tone_policy"]
    assert sorted(r["label"] for r in test) == [
        "escalation", "missed_tool_call", "no_failure", "tone_policy", "wrong_retrieval"]
    assert "fewer than 2 items go to test only: escalation, no_failure, wrong_retrieval" in \
        capsys.readouterr().err
    assert {"id", "messages", "metadata", "label", "fix_class"} <= set(dev[0])


def test_tuning_seed_is_openai_fine_tuning_jsonl(labeled, tmp_path):
    out = tmp_path / "seed.jsonl"
    assert cli(labeled, "--what", "tuning-seed", "--output", str(out)) == 0
    seed = read_jsonl(out)
    # behavior failures with alice's ideal response: t2 and t3 (tone_policy), t7 (escalation);
    # t4's final label is an open disagreement
    assert len(seed) == 3
    assert seed[0]["messages"] == [
        {"role": "system", "content": "You are a support assistant."},
        {"role": "user", "content": "How do I reset my password? (#2)"},
        {"role": "assistant", "content": "Ideal answer for t2."},
    ]


def test_tuning_example_cuts_at_the_failure_turn_and_drops_the_wrong_message():
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "u1"},
            {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"},
            {"role": "assistant", "content": "wrong"}]
    assert tuning_example(msgs, None, "ideal", 2)["messages"] == [
        *msgs[:2], {"role": "assistant", "content": "ideal"}]
    assert tuning_example(msgs, None, "ideal", 3)["messages"] == [
        *msgs[:4], {"role": "assistant", "content": "ideal"}]
    assert tuning_example(msgs, [{"type": "function"}], "ideal", None)["tools"] == [
        {"type": "function"}]


def test_eval_set_refuses_other_formats(labeled, tmp_path, capsys):
    assert cli(labeled, "--what", "eval-set", "--format", "csv", "--output", str(tmp_path)) == 2
    assert "eval-set is written as JSONL only" in capsys.readouterr().err


def test_eval_set_download_is_a_zip_of_dev_and_test(db, taxonomy):
    import io
    import zipfile

    from core.analysts.exports import export_download

    fill(db, taxonomy)
    ready = export_download(db, "eval-set", "jsonl")
    assert ready.file_name == "eval_set.zip" and ready.rows == 7
    with zipfile.ZipFile(io.BytesIO(ready.data)) as z:
        assert sorted(z.namelist()) == ["dev.jsonl", "test.jsonl"]
        assert len(z.read("dev.jsonl").decode().splitlines()) == 2
    assert ready.warnings == (
        "labels with fewer than 2 items go to test only: escalation, no_failure, wrong_retrieval",)


def test_real_transcripts_round_trip_through_jsonl_export(db, shared_data, tmp_path):
    from core.analysts.exports import export
    from tests.conftest import add_transcripts

    originals = []
    for path in sorted(shared_data.glob("*.jsonl")):
        originals += [json.loads(line) for line in path.read_text().splitlines()]
    add_transcripts(db, originals, source="real")
    out = tmp_path / "real.jsonl"
    assert export(db, "transcripts", "jsonl", out).files == {str(out): len(originals)}
    fresh = connect(tmp_path / "fresh.duckdb")
    add_transcripts(fresh, read_jsonl(out), "real")
    sql = "SELECT transcript_id, content_hash, metadata FROM transcripts ORDER BY 1"
    assert fresh.con.execute(sql).fetchall() == db.con.execute(sql).fetchall()
    assert {r["id"]: r for r in read_jsonl(out)} == {
        r["id"]: {k: v for k, v in r.items() if v is not None} for r in originals}


def test_cli_export_of_nothing_exits_2_and_leaves_no_file(db_path, tmp_path, capsys):
    from core.cli.main import run
    from core.store.connection import connect as open_db

    open_db(db_path).close()
    out = tmp_path / "a.csv"
    code = run(["--db", str(db_path), "export", "--what", "annotations", "--format", "csv",
                "--output", str(out)])
    assert code == 2 and not out.exists()
    assert "nothing to export: no annotations rows" in capsys.readouterr().err
