"""Database.transaction(): all or nothing, re-entrant per thread (a nested block joins the
outer one, only the outermost commits), and store functions writing into the caller's block."""

from __future__ import annotations

import threading

import duckdb
import pytest

from core.errors import DatabaseError
from tests.conftest import add_transcripts, make_record


def stored(db) -> list[str]:
    return [r[0] for r in db.con.execute(
        "SELECT transcript_id FROM transcripts ORDER BY 1").fetchall()]


@pytest.fixture
def commits(db) -> list[int]:
    seen: list[int] = []
    db.after_commit.append(lambda: seen.append(len(stored(db))))
    return seen


def test_nested_blocks_join_the_outer_one_which_commits_once(db, commits):
    with db.transaction():
        add_transcripts(db, [make_record(1)])  # the store's own transaction() joins this one
        with db.transaction():
            add_transcripts(db, [make_record(2)])
        assert commits == []
    assert commits == [2] and stored(db) == ["t1", "t2"]


def test_an_error_in_the_outer_block_undoes_what_the_inner_blocks_wrote(db, commits):
    with pytest.raises(RuntimeError, match="stop"), db.transaction():
        add_transcripts(db, [make_record(1)])
        raise RuntimeError("stop")
    assert stored(db) == [] and commits == []
    add_transcripts(db, [make_record(2)])  # the connection is usable again
    assert stored(db) == ["t2"] and commits == [1]


def test_an_inner_failure_the_caller_caught_still_saves_nothing(db, commits):
    with pytest.raises(DatabaseError, match="a step of this transaction failed, so none of it "
                                            "was saved"), db.transaction():
        add_transcripts(db, [make_record(1)])
        try:
            with db.transaction():
                add_transcripts(db, [make_record(2)])
                raise ValueError("inner")
        except ValueError:
            pass
    assert stored(db) == [] and commits == []


def test_each_thread_has_its_own_transaction(db):
    done = []
    with db.transaction():
        add_transcripts(db, [make_record(1)])
        other = threading.Thread(target=lambda: done.append(add_transcripts(db, [make_record(2)])))
        other.start()
        other.join()
        assert done == [["t2"]]  # committed on its own, while this block is still open
    assert stored(db) == ["t1", "t2"]


def memory_limit(db) -> str:
    return db.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_memory_limit_holds_for_the_outermost_block_and_is_reset_after_an_error(db):
    before = memory_limit(db)
    with pytest.raises(duckdb.CatalogException), db.transaction(memory_limit="300MB"):
        assert memory_limit(db) == "286.1 MiB"
        with db.transaction(memory_limit="100MB"):  # a nested block leaves it alone
            assert memory_limit(db) == "286.1 MiB"
        db.con.execute("SELECT * FROM no_such_table")  # aborts the transaction in DuckDB
    assert memory_limit(db) == before


def test_memory_limit_is_adjusted_only_inside_a_limited_block_and_reset_after(db):
    before = memory_limit(db)
    db.adjust_memory_limit("200MB")  # no block: left alone
    with db.transaction():  # e.g. an import inside a caller's transaction: left alone
        db.adjust_memory_limit("200MB")
        assert memory_limit(db) == before
    with db.transaction(memory_limit="100MB"):
        db.adjust_memory_limit("300MB")
        assert memory_limit(db) == "286.1 MiB"
    assert memory_limit(db) == before
