"""Samples: reproducible random and stratified draws, filters, the recorded tables."""

from __future__ import annotations

import json

import pytest

from core.errors import NotFound, UsageError
from core.labels.samples import allocate, draw_sample, get_sample, list_samples
from core.store.connection import connect
from tests.conftest import add_transcripts, make_record
from tests.ingest_helpers import cli, count, write_jsonl


def _records(n=100):
    return [make_record(i, metadata={"channel": ["web", "email", "chat"][i % 10 % 3],
                                     "tier": "pro" if i < 20 else "free"}) for i in range(n)]


def test_allocate_largest_remainder():
    assert allocate({"a": 50, "b": 30, "c": 20}, 10) == {"a": 5, "b": 3, "c": 2}
    assert allocate({"a": 1, "b": 1, "c": 1}, 2) == {"a": 1, "b": 1, "c": 0}
    assert allocate({"a": 7, "b": 2}, 5) == {"a": 4, "b": 1}  # quotas 3.89/1.11
    assert allocate({"a": 3}, 10) == {"a": 3}


def test_same_seed_same_sample(db):
    add_transcripts(db, _records())
    one = draw_sample(db, 10, seed=7, created_by="ana")
    two = draw_sample(db, 10, seed=7)
    other = draw_sample(db, 10, seed=8)
    assert one.transcript_ids == two.transcript_ids != other.transcript_ids
    assert one.sample_id != two.sample_id and len(set(one.transcript_ids)) == 10
    stored = get_sample(db, one.sample_id)
    assert stored.transcript_ids == one.transcript_ids
    assert (stored.method, stored.seed, stored.n, stored.created_by) == ("random", 7, 10, "ana")


def test_stratified_proportional(db):
    add_transcripts(db, _records())
    s = draw_sample(db, 20, seed=1, stratify_by="channel")
    by_channel = dict(db.con.execute(
        "SELECT json_extract_string(metadata, '$.channel'), count(*) FROM sample_items "
        "JOIN transcripts USING (transcript_id) WHERE sample_id = ? GROUP BY 1", [s.sample_id]).fetchall())
    # 100 records: web 40, email 30, chat 30 → 8, 6, 6
    assert by_channel == {"web": 8, "email": 6, "chat": 6}
    assert s.method == "stratified" and s.stratify_by == "channel"


def test_where_filters_and_skips_archived(db):
    add_transcripts(db, _records())
    db.con.execute("UPDATE transcripts SET archived = true WHERE transcript_id = 't0'")
    s = draw_sample(db, 50, seed=3, where={"tier": ["pro"], "channel": ["web", "chat"]})
    assert s.n == 13 and "t0" not in s.transcript_ids  # pro = t0..t19: 8 web + 6 chat, t0 archived
    assert s.filter == {"tier": ["pro"], "channel": ["web", "chat"]}
    assert get_sample(db, s.sample_id).filter == s.filter


def test_source_field_and_errors(db):
    add_transcripts(db, _records(5), source="alpha")
    add_transcripts(db, [make_record(i) for i in range(5, 8)], source="beta")
    assert draw_sample(db, 5, 1, where={"source": ["beta"]}).n == 3
    with pytest.raises(NotFound, match=r"no active transcript has source in \['gamma'\]"):
        draw_sample(db, 5, 1, where={"source": ["gamma"]})
    with pytest.raises(UsageError, match="--n must be at least 1"):
        draw_sample(db, 0, 1)
    with pytest.raises(UsageError, match="use a metadata key or `source`"):
        draw_sample(db, 5, 1, stratify_by="x'; drop table t")
    assert len(list_samples(db)) == 1


def test_sample_cli_and_list(db, db_path, capsys):
    add_transcripts(db, _records())
    db.close()
    code, out, _ = cli(capsys, db_path, "--user", "ana", "sample", "--n", "20", "--seed", "1",
                       "--stratify-by", "channel", "--where", "tier=free")
    assert code == 0
    assert "20 of 80 active transcripts matching the filter, stratified (seed 1), filter {\"tier\": [\"free\"]}" in out
    assert "  channel=web: 8\n" in out
    code, out, _ = cli(capsys, db_path, "sample", "--list")
    assert code == 0 and "stratified n=20" in out and "by ana" in out
    assert count(db_path, "SELECT count(*) FROM sample_items") == 20
    row = json.loads(json.dumps(count(db_path, "SELECT filter FROM samples")))
    assert json.loads(row) == {"tier": ["free"]}
    code, _, err = cli(capsys, db_path, "sample", "--n", "5")
    assert code == 2 and "needs --n N and --seed S" in err


def test_stratify_by_a_field_no_transcript_has_is_refused(db):
    from core.errors import UsageError
    from core.labels.samples import draw_sample

    add_transcripts(db, [make_record(i) for i in range(5)])
    with pytest.raises(UsageError, match="no transcript has this field"):
        draw_sample(db, 3, seed=1, stratify_by="chanel")
    assert db.con.execute("SELECT count(*) FROM samples").fetchone()[0] == 0


def test_same_seed_same_sample_whatever_the_import_order(tmp_path, capsys):
    # Both sources use ids t0..t9; whichever is imported second gets `<source>/<id>` keys.
    files = {s: write_jsonl(tmp_path / f"{s}.jsonl",
                            [make_record(i, text=f"{s} question") for i in range(10)])
             for s in ("A", "B")}
    drawn = []
    for order in (("A", "B"), ("B", "A")):
        db_path = tmp_path / f"{''.join(order)}.duckdb"
        for s in order:
            cli(capsys, db_path, "import", str(files[s]), "--source", s)
        db = connect(db_path)
        sample = draw_sample(db, 6, 7)
        drawn.append([db.con.execute("SELECT source, record_id FROM transcripts WHERE "
                                     "transcript_id = ?", [t]).fetchone()
                      for t in sample.transcript_ids])
        db.close()
    assert drawn[0] == drawn[1]
