"""`triage annotations import`: labels from CSV/JSONL become annotation rows (origin import)."""

from __future__ import annotations

import json

from core.store.annotations import annotations_for
from core.store.settings import set_setting
from tests.conftest import add_transcripts, make_record
from tests.ingest_helpers import cli, count, write_jsonl

HEADER = "transcript_id,annotator,primary_label,secondary_labels,context_present,severity,note,created_at\n"


def _setup(db, n=3):
    add_transcripts(db, [make_record(i) for i in range(n)])


def test_labels_csv_imported_as_label_rows(tmp_path, db, db_path, taxonomy, capsys):
    _setup(db)
    db.close()
    f = tmp_path / "labels.csv"
    f.write_text(HEADER + 't0,ana,wrong_retrieval,"[""noisy_context""]",yes,high,"note, with comma",2026-01-02T03:04:05\n'
                 "t1,ben,no_failure,,,,,\n")
    code, out, _ = cli(capsys, db_path, "annotations", "import", str(f))
    assert code == 0, out
    assert "imported            2" in out
    from core.store.connection import connect

    (a,) = annotations_for(connect(db_path), "t0")
    assert (a.kind, a.origin, a.annotator, a.primary_label, a.secondary_labels) == (
        "label", "import", "ana", "wrong_retrieval", ("noisy_context",))
    assert (a.context_present, a.severity, a.note) == ("yes", "high", "note, with comma")
    assert (a.taxonomy_name, a.taxonomy_version) == ("default", taxonomy.version)
    assert str(a.created_at) == "2026-01-02 03:04:05"
    assert count(db_path, "SELECT count(*) FROM final_labels WHERE fix_class IS NOT NULL") == 2


def test_labels_reimport_counts_duplicates(tmp_path, db, db_path, capsys):
    _setup(db)
    db.close()
    f = write_jsonl(tmp_path / "l.jsonl", [{"transcript_id": "t0", "annotator": "ana",
                                            "primary_label": "reasoning", "created_at": "2026-01-01T00:00:00"}])
    assert cli(capsys, db_path, "annotations", "import", str(f))[0] == 0
    code, out, _ = cli(capsys, db_path, "annotations", "import", str(f))
    assert code == 0 and "duplicates          1" in out
    assert count(db_path, "SELECT count(*) FROM annotations") == 1


def test_labels_unknown_label_and_transcript_rejected(tmp_path, db, db_path, taxonomy, capsys):
    _setup(db)
    db.close()
    rows = [{"transcript_id": "t0", "annotator": "ana", "primary_label": "hallucination"},
            {"transcript_id": "t1", "annotator": "ana", "primary_label": "reasoning",
             "secondary_labels": ["tone"]},
            {"transcript_id": "nope", "annotator": "ana", "primary_label": "reasoning"},
            {"transcript_id": "t2", "annotator": "", "primary_label": "reasoning"},
            {"transcript_id": "t2", "annotator": "ana", "primary_label": "reasoning", "severity": "huge"},
            {"transcript_id": "t2", "annotator": "bo", "primary_label": "reasoning"}]
    rejects = tmp_path / "rej.jsonl"
    code, out, _ = cli(capsys, db_path, "annotations", "import",
                       str(write_jsonl(tmp_path / "l.jsonl", rows)), "--rejects", str(rejects))
    assert code == 1
    valid = ", ".join(taxonomy.keys)
    assert f"line 1: unknown label 'hallucination'; valid keys: {valid}" in out
    assert "line 2: unknown label 'tone'" in out
    assert "line 3: unknown transcript_id 'nope' (import the transcript first)" in out
    assert "line 4: 'annotator' is empty" in out
    assert "line 5: 'severity' must be 'low', 'medium' or 'high', got 'huge'" in out
    assert len(rejects.read_text().splitlines()) == 5
    assert count(db_path, "SELECT count(*) FROM annotations") == 1


def test_labels_all_rejected_exits_2(tmp_path, db, db_path, capsys):
    _setup(db)
    db.close()
    f = tmp_path / "l.csv"
    f.write_text(HEADER + "t0,ana,nonsense,,,,,\n")
    code, _, err = cli(capsys, db_path, "annotations", "import", str(f))
    assert code == 2 and "all 1 rows rejected; nothing imported" in err
    assert count(db_path, "SELECT count(*) FROM annotations") == 0


def test_labels_bad_secondary_json(tmp_path, db, db_path, capsys):
    _setup(db)
    db.close()
    f = tmp_path / "l.csv"
    f.write_text(HEADER + "t0,ana,reasoning,not json,,,,\nt1,ana,reasoning,,,,,\n")
    code, out, _ = cli(capsys, db_path, "annotations", "import", str(f))
    assert code == 1 and 'row 1: \'secondary_labels\': must be a JSON array such as ["noisy_context"]' in out


def test_labels_use_active_taxonomy(tmp_path, db, db_path, capsys):
    _setup(db)
    set_setting(db, "active_taxonomy", "agent", "admin")
    db.close()
    f = write_jsonl(tmp_path / "l.jsonl", [
        {"transcript_id": "t0", "annotator": "ana", "primary_label": "wrong_tool_arguments"},
        {"transcript_id": "t1", "annotator": "ana", "primary_label": "wrong_retrieval"}])
    code, out, _ = cli(capsys, db_path, "annotations", "import", str(f))
    assert code == 1 and "line 2: unknown label 'wrong_retrieval'" in out
    assert count(db_path, "SELECT count(*) FROM annotations WHERE taxonomy_name = 'agent'") == 1
    assert json.loads(json.dumps(count(db_path, "SELECT count(*) FROM final_labels "
                                                "WHERE fix_class = 'pipeline'"))) == 1


def test_labels_created_at_with_zone_stored_as_utc(tmp_path, db, db_path, capsys):
    _setup(db)
    db.close()
    f = write_jsonl(tmp_path / "l.jsonl", [{"transcript_id": "t0", "annotator": "ana",
                                            "primary_label": "reasoning",
                                            "created_at": "2026-01-01T12:00:00+02:00"}])
    assert cli(capsys, db_path, "annotations", "import", str(f))[0] == 0
    assert str(count(db_path, "SELECT created_at FROM annotations")) == "2026-01-01 10:00:00"


def test_reimporting_labels_without_created_at_adds_nothing(tmp_path, db, taxonomy):
    from core.ingest.labels import import_labels

    add_transcripts(db, [make_record(0)])
    f = tmp_path / "l.csv"
    f.write_text("transcript_id,annotator,primary_label\nt0,ann9,reasoning\n")
    first, again = import_labels(db, f), import_labels(db, f)
    assert (first.rows_imported, again.rows_imported, again.rows_duplicate) == (1, 0, 1)
    assert again.exit_code == 0
    assert db.con.execute("SELECT count(*) FROM annotations").fetchone()[0] == 1


def test_labels_with_a_source_column_use_the_record_id(tmp_path, db_path, capsys):
    # Two sources both have a t1; a label file from the shop team names the shop's.
    cli(capsys, db_path, "import", str(write_jsonl(tmp_path / "a.jsonl", [make_record(1)])))
    shop = write_jsonl(tmp_path / "b.jsonl", [make_record(1, text="Where is my parcel?")])
    cli(capsys, db_path, "import", str(shop), "--source", "shop")
    f = tmp_path / "labels.csv"
    f.write_text("source,transcript_id,annotator,primary_label\nshop,t1,ana,wrong_retrieval\n"
                 "shop,t9,ana,reasoning\n,t1,ben,no_failure\n")
    code, out, _ = cli(capsys, db_path, "annotations", "import", str(f))
    assert code == 1
    assert "row 2: unknown transcript: no id 't9' in source 'shop'" in out
    assert count(db_path, "SELECT count(*) FROM annotations WHERE transcript_id = 'shop/t1' "
                          "AND primary_label = 'wrong_retrieval'") == 1
    assert count(db_path, "SELECT count(*) FROM annotations WHERE transcript_id = 't1' "
                          "AND primary_label = 'no_failure'") == 1


def test_ids_match_exactly_and_source_names_are_trimmed(tmp_path, db_path, capsys):
    rows = [make_record(" sp "), make_record("sp", text="Another conversation")]
    cli(capsys, db_path, "import", str(write_jsonl(tmp_path / "a.jsonl", rows)), "--source", " prod ")
    assert count(db_path, "SELECT count(*) FROM transcripts WHERE source = 'prod'") == 2
    f = write_jsonl(tmp_path / "l.jsonl", [
        {"source": "prod ", "transcript_id": " sp ", "annotator": " ana ", "primary_label": "reasoning "},
        {"transcript_id": "sp ", "annotator": "ana", "primary_label": "reasoning"}])
    code, out, _ = cli(capsys, db_path, "annotations", "import", str(f))
    assert code == 1 and "line 2: unknown transcript_id 'sp '" in out
    assert count(db_path, "SELECT count(*) FROM annotations WHERE transcript_id = ' sp ' "
                          "AND annotator = 'ana' AND primary_label = 'reasoning'") == 1
    assert count(db_path, "SELECT count(*) FROM annotations WHERE transcript_id = 'sp'") == 0
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "a.jsonl"), "--source", "  ")
    assert code == 2 and "the source name is blank" in err
