"""docs/analysts.md's schema documentation and example queries, checked against real databases."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from core.analysts.schema_docs import EXAMPLE_QUERIES
from core.store.connection import connect
from core.store.snapshot import write_snapshot
from scripts.gen_docs import COMMAND, render_example_queries, render_schema_docs
from tests.analysts_helpers import fill

ANALYSTS_DOCS = Path(__file__).resolve().parent.parent / "docs" / "analysts.md"


def _between(text: str, name: str) -> str:
    m = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert m, f"docs/analysts.md lacks the {name} markers"
    return m.group(1)


def documented_relations() -> dict[str, tuple[str, list[str]]]:
    """Parse docs/analysts.md: `### `name` (kind)` headings, then `| `column` | meaning |` rows."""
    docs: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in _between(ANALYSTS_DOCS.read_text(), "schema-docs").splitlines():
        if h := re.match(r"### `(\w+)` \((table|view)\)$", line):
            current = h.group(1)
            docs[current] = (h.group(2), [])
        elif (c := re.match(r"\| `(\w+)` \| (.+) \|$", line)) and current:
            assert c.group(2).strip(), f"{current}.{c.group(1)} has no description"
            docs[current][1].append(c.group(1))
    return docs


def database_relations(con) -> dict[str, tuple[str, list[str]]]:
    rows = con.execute(
        "SELECT t.table_name, t.table_type, c.column_name FROM information_schema.tables t "
        "JOIN information_schema.columns c USING (table_catalog, table_schema, table_name) "
        "WHERE t.table_schema = 'main' ORDER BY t.table_name, c.ordinal_position").fetchall()
    out: dict[str, tuple[str, list[str]]] = {}
    for name, kind, col in rows:
        out.setdefault(name, ("view" if kind == "VIEW" else "table", []))[1].append(col)
    return out


def test_schema_docs_match_a_freshly_migrated_database(db_path):
    documented = documented_relations()
    actual = database_relations(connect(db_path).con)
    assert sorted(documented) == sorted(actual), "tables/views documented vs in the database"
    for name, (kind, cols) in actual.items():
        doc_kind, doc_cols = documented[name]
        assert doc_kind == kind, name
        assert sorted(doc_cols) == sorted(cols), f"{name}: documented vs actual columns"


def test_schema_section_is_generated_from_schema_docs():
    text = ANALYSTS_DOCS.read_text()
    assert _between(text, "schema-docs") == render_schema_docs(), f"stale: run `{COMMAND}`"
    assert _between(text, "example-queries") == render_example_queries(), f"stale: run `{COMMAND}`"


def documented_queries() -> list[str]:
    block = _between(ANALYSTS_DOCS.read_text(), "example-queries")
    return re.findall(r"```sql\n(.*?)```", block, re.S)


@pytest.fixture
def labeled_and_snapshot(db, taxonomy, tmp_path):
    fill(db, taxonomy)
    info = write_snapshot(db, tmp_path / "copy.snapshot.duckdb")
    return db, info.path


def test_example_queries_run_on_the_database_and_its_snapshot(labeled_and_snapshot):
    db, snap = labeled_and_snapshot
    queries = documented_queries()
    assert len(queries) == len(EXAMPLE_QUERIES) == 5
    snap_con = duckdb.connect(str(snap), read_only=True)
    results = [db.con.execute(q).fetchall() for q in queries]
    assert results == [snap_con.execute(q).fetchall() for q in queries]
    by_week, pairs, confusion, slices, missed = results
    # t0..t7 labeled; t4 is an open disagreement, t6 no_failure → 6 failures counted
    assert sum(r[3] for r in by_week) == 6
    assert pairs == [("alice", "bob", 3, 2, 0.667)]
    assert ("missed_tool_call", "wrong_retrieval", 1) in confusion
    assert ("tone_policy", "tone_policy", 2) in confusion
    assert sum(r[1] for r in slices) == 7 and {r[0] for r in slices} == {"web", "email"}
    assert [r[0] for r in missed] == ["t0", "t1"]


def test_docs_check_notices_an_undocumented_column_and_view(db_path):
    con = connect(db_path).con
    con.execute("ALTER TABLE annotations ADD COLUMN undocumented VARCHAR")
    con.execute("CREATE VIEW undocumented_view AS SELECT 1 AS x")
    documented, actual = documented_relations(), database_relations(con)
    assert set(actual) - set(documented) == {"undocumented_view"}
    assert set(actual["annotations"][1]) - set(documented["annotations"][1]) == {"undocumented"}
