"""The SQL page's runner against hostile input, on a real snapshot, with exact messages."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core.analysts.sandbox import result_csv, result_parquet
from core.errors import QueryRefused
from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.store.sandbox import MSG_FILES, run_query
from core.store.snapshot import write_snapshot
from core.taxonomy import load_taxonomy
from tests.analysts_helpers import fill

ONLY_READ = ("Only queries that read (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE) "
             "run here, not {} statements.")
STOPPED = "The query ran longer than 1 s and was stopped. Narrow it with WHERE or LIMIT."

HOSTILE = [
    ("SELECT * FROM read_csv('/etc/passwd')", MSG_FILES),
    ("FROM '/etc/passwd'", "Catalog Error: Table with name /etc/passwd does not exist!"),
    ("SELECT * FROM read_text('/etc/passwd')", MSG_FILES),
    ("SELECT * FROM glob('/*')", MSG_FILES),
    ("SELECT * FROM read_parquet('/tmp/*.parquet')", MSG_FILES),
    ("SELECT getenv('HOME')", "Catalog Error: Scalar Function with name getenv does not exist!"),
    ("COPY annotations TO '/tmp/stolen.csv'", ONLY_READ.format("COPY")),
    ("COPY (SELECT * FROM transcripts) TO '/tmp/stolen.parquet'", ONLY_READ.format("COPY")),
    ("ATTACH '/tmp/other.duckdb' AS other", ONLY_READ.format("ATTACH")),
    ("DETACH triage", ONLY_READ.format("DETACH")),
    ("INSTALL httpfs", ONLY_READ.format("INSTALL or LOAD")),
    ("LOAD httpfs", ONLY_READ.format("INSTALL or LOAD")),
    ("SET enable_external_access = true", ONLY_READ.format("SET")),
    ("RESET lock_configuration", ONLY_READ.format("SET")),
    ("PRAGMA enable_external_access", ONLY_READ.format("PRAGMA")),
    ("CALL pragma_version()", ONLY_READ.format("CALL")),
    ("EXPLAIN ANALYZE SELECT 1", ONLY_READ.format("EXPLAIN")),
    ("DELETE FROM annotations", ONLY_READ.format("DELETE")),
    ("DROP TABLE annotations", ONLY_READ.format("DROP")),
    ("SELECT 1; SELECT 2",
     "One statement per run: this text holds 2 statements (SELECT, SELECT). Keep one query."),
    ("SELECT 1 -- just a comment\n; COPY annotations TO '/tmp/stolen.csv'",
     "One statement per run: this text holds 2 statements (SELECT, COPY). Keep one query."),
    ("SELECT count(*) FROM annotations /* harmless */ ; ATTACH '/tmp/x.duckdb'",
     "One statement per run: this text holds 2 statements (SELECT, ATTACH). Keep one query."),
    ("SELECT count(*) FROM range(100000) a, range(1000000) b", STOPPED),
    ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r",
     STOPPED),
    ("   ", "Type a query first."),
    ("SELEC 1", "The query could not be read: Parser Error: syntax error at or near \"SELEC\""),
]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sqlsafe")
    db = connect(folder / "triage.duckdb")
    taxonomy = load_taxonomy("default")
    register_taxonomy(db, taxonomy)
    fill(db, taxonomy)
    path = write_snapshot(db).path
    db.close()
    return path


@pytest.mark.parametrize(("sql", "message"), HOSTILE, ids=[q[:40] for q, _ in HOSTILE])
def test_hostile_query_is_refused_with_a_plain_message(snapshot, sql, message):
    with pytest.raises(QueryRefused) as refused:
        run_query(snapshot, sql, time_limit=1.0)
    assert str(refused.value) == message
    assert not any(Path(f"/tmp/stolen.{ext}").exists() for ext in ("csv", "parquet"))


def test_statement_text_inside_a_comment_is_only_a_comment(snapshot):
    result = run_query(snapshot, "SELECT count(*) AS n FROM annotations /* ; DROP TABLE annotations */")
    assert result.table.to_pylist() == [{"n": 11}]


def test_row_limit_cuts_and_says_so(snapshot):
    result = run_query(snapshot, "SELECT * FROM range(50) ORDER BY range DESC", row_limit=10)
    assert result.truncated and result.table.num_rows == 10
    assert result.table.column("range").to_pylist()[0] == 49
    assert not run_query(snapshot, "FROM transcripts", row_limit=10).truncated


def test_a_trailing_comment_and_semicolon_still_run(snapshot):
    result = run_query(snapshot, "SELECT transcript_id FROM final_labels ORDER BY 1 -- all\n;")
    assert result.columns == ["transcript_id"] and result.table.num_rows == 8


def test_result_downloads_as_csv_and_parquet(snapshot, tmp_path):
    result = run_query(snapshot, "SELECT transcript_id, secondary_labels FROM annotations "
                                 "WHERE transcript_id = 't5'")
    assert result_csv(result).decode().splitlines() == [
        '"transcript_id","secondary_labels"', '"t5","[""noisy_context""]"']
    path = tmp_path / "r.parquet"
    path.write_bytes(result_parquet(result))
    assert pq.read_table(path).to_pylist() == [
        {"transcript_id": "t5", "secondary_labels": ["noisy_context"]}]


def test_pivot_runs_with_listed_values_and_a_bare_pivot_says_how(snapshot):
    result = run_query(snapshot, "PIVOT annotations ON kind IN ('label') USING count(*) "
                                 "GROUP BY annotator ORDER BY annotator")
    assert result.columns == ["annotator", "label"]
    with pytest.raises(QueryRefused, match="A PIVOT needs its values listed"):
        run_query(snapshot, "PIVOT annotations ON kind")


def test_a_result_larger_than_the_byte_cap_is_refused_without_being_read_whole(tmp_path):
    import duckdb

    from core.store.sandbox import QueryRefused, run_query

    snap = tmp_path / "snap.duckdb"
    duckdb.connect(str(snap)).close()
    # 60,000 rows of 1 KB: a 60 MB result against the default 50 MB cap.
    sql = "SELECT i, repeat('x', 1000) AS blob FROM range(60000) t(i)"
    with pytest.raises(QueryRefused, match=r"larger than 50 MB \(sql_max_result_bytes\).*triage export"):
        run_query(snap, sql, row_limit=100_000)
    assert run_query(snap, sql, row_limit=100).table.num_rows == 100  # small results still flow
    assert run_query(snap, sql, row_limit=100_000, max_bytes=100_000_000).table.num_rows == 60_000
