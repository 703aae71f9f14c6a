"""The SQL page's query runner: one read-only query at a time on the analysts' snapshot, with
file access off, configuration locked, a row limit and a time limit. The user's SQL is
classified by DuckDB's own parser and runs on a connection of its own."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from core.errors import QueryRefused
from core.store.visibility import Viewer, load_hidden, row_filter

ROW_LIMIT = 1000
MAX_ROW_LIMIT = 100_000
TIME_LIMIT = 10.0
MAX_RESULT_BYTES = 50_000_000  # the sql_max_result_bytes setting's default
# External access is instance-wide in DuckDB: it can be switched off only on a connection of
# its own, here the read-only snapshot; lock_configuration stops SET from switching it back.
SAFE_CONFIG = {"enable_external_access": False, "lock_configuration": True,
               "memory_limit": "1GB"}
_KIND = {"LOAD": "INSTALL or LOAD"}
MSG_EMPTY = "Type a query first."
MSG_FILES = ("Files cannot be read or written from the SQL page: query the tables and views "
             "listed beside the editor.")


@dataclass(frozen=True)
class QueryResult:
    """Rows of one query (at most the row limit), and whether more rows were cut off."""

    table: pa.Table
    truncated: bool
    seconds: float

    @property
    def columns(self) -> list[str]:
        return self.table.column_names


def _kind(statement: duckdb.Statement) -> str:
    name = statement.type.name
    return _KIND.get(name, name)


def check_query(sql: str) -> str:
    """The text of the one read-only query in `sql`; QueryRefused (plain message) otherwise.
    Classified by DuckDB's own parser (statement types), not by pattern matching."""
    if not sql.strip():
        raise QueryRefused(MSG_EMPTY)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise QueryRefused(f"The query could not be read: {_first_line(e)}") from e
    if not statements:
        raise QueryRefused(MSG_EMPTY)
    if len(statements) > 1:
        kinds = ", ".join(_kind(s) for s in statements)
        raise QueryRefused(f"One statement per run: this text holds {len(statements)} statements "
                           f"({kinds}). Keep one query.")
    statement = statements[0]
    if statement.type == duckdb.StatementType.MULTI:  # what DuckDB makes of a bare PIVOT
        raise QueryRefused("A PIVOT needs its values listed here: `PIVOT t ON col IN ('a', 'b') "
                           "USING count(*)` (or use GROUP BY).")
    if statement.type != duckdb.StatementType.SELECT:
        raise QueryRefused(f"Only queries that read (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, "
                           f"SUMMARIZE) run here, not {_kind(statement)} statements.")
    return statement.query.strip().rstrip(";").strip()


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0]


def _open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """The snapshot, read-only, with file access off and configuration locked."""
    return duckdb.connect(str(path), read_only=True, config=SAFE_CONFIG)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# The one large table that carries no label: a reviewing analyst's query reads it from a file
# of its own beside the snapshot (written once per content of the table, for every user), not
# from a per-query in-memory copy (seconds and hundreds of MB at 100k).
SHARED_TABLE = "transcripts"
# Rows of transcripts are appended, and updated only by archiving: this sum tells contents apart.
_FINGERPRINT = ("SELECT count(*), coalesce(sum(hash(transcript_id, content_hash, archived)), 0) "
                "FROM snap.main.transcripts")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _shared_file(con: duckdb.DuckDBPyConnection, snapshot: Path) -> Path:
    """The file holding the snapshot's SHARED_TABLE and nothing else (no label, no pre-label),
    written when its content is new; older ones are removed."""
    rows = con.execute(_FINGERPRINT).fetchall()[0]
    columns = con.execute(
        "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM "
        "duckdb_columns() WHERE database_name = 'snap' AND schema_name = 'main' AND "
        f"table_name = {_literal(SHARED_TABLE)}").fetchall()[0][0]
    key = hashlib.sha1(repr((rows, columns)).encode()).hexdigest()[:16]
    prefix = f".{snapshot.name}.{SHARED_TABLE}-"
    target = snapshot.with_name(f"{prefix}{key}.duckdb")
    if target.exists():
        return target
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    con.execute(f"ATTACH {_literal(str(tmp))} AS shared_w")
    try:
        con.execute(f"CREATE TABLE shared_w.main.{_quote(SHARED_TABLE)} AS SELECT * FROM "
                    f"snap.main.{_quote(SHARED_TABLE)}")
    finally:
        con.execute("DETACH shared_w")
    os.replace(tmp, target)
    for stale in snapshot.parent.glob(f"{prefix}*.duckdb"):
        if stale != target:
            stale.unlink(missing_ok=True)  # a query that has it open keeps reading it
    return target


def keep_shared_file_current(snapshot: Path) -> None:
    """After a snapshot refresh: when a reviewing analyst's query has made the shared file
    (one exists), write the one of the new content now, so their next query does not wait for
    it (after an import it costs about a snapshot refresh)."""
    if not any(snapshot.parent.glob(f".{snapshot.name}.{SHARED_TABLE}-*.duckdb")):
        return
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {_literal(str(snapshot))} AS snap (READ_ONLY)")
        _shared_file(con, snapshot)
    finally:
        con.close()


def _open_filtered(path: Path, viewer: Viewer | None) -> duckdb.DuckDBPyConnection:
    """The snapshot as `viewer` may read it (core/store/visibility.py). Nothing hidden from
    them: the snapshot itself. Otherwise an in-memory database: a copy of the snapshot's tables
    less the hidden rows, but SHARED_TABLE (no labels in it) as a view of its own file, every
    view of the snapshot re-created over those (so every view, a later one included, is
    filtered), the snapshot detached, then file access off and configuration locked as on the
    snapshot."""
    if viewer is None:
        return _open_snapshot(path)
    con = duckdb.connect(":memory:", config={"memory_limit": SAFE_CONFIG["memory_limit"]})
    try:
        con.execute(f"ATTACH {_literal(str(path))} AS snap (READ_ONLY)")
        if not load_hidden(con, viewer, catalog="snap"):
            con.close()
            return _open_snapshot(path)
        shared = _shared_file(con, path)
        con.execute(f"ATTACH {_literal(str(shared))} AS shared (READ_ONLY)")
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'snap' "
            "AND schema_name = 'main' ORDER BY 1").fetchall()]
        for t in tables:
            if t == SHARED_TABLE:
                con.execute(f"CREATE VIEW memory.main.{_quote(t)} AS SELECT * FROM shared.main."
                            f"{_quote(t)}")
                continue
            where = row_filter(t)
            con.execute(f"CREATE TABLE memory.main.{_quote(t)} AS SELECT * FROM snap.main."
                        f"{_quote(t)}" + (f" WHERE {where}" if where else ""))
        views = con.execute("SELECT view_name, sql FROM duckdb_views() WHERE database_name = "
                            "'snap' AND schema_name = 'main' AND NOT internal").fetchall()
        con.execute("DETACH snap")
        _create_views(con, [sql for _, sql in views])
        con.execute("DROP TABLE _hidden")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        return con
    except BaseException:
        con.close()
        raise


def _create_views(con: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
    """Create views in dependency order: retry the ones whose dependencies are not there yet."""
    pending = list(statements)
    while pending:
        failed: list[str] = []
        error: Exception | None = None
        for sql in pending:
            try:
                con.execute(sql)
            except duckdb.CatalogException as e:
                failed.append(sql)
                error = e
        if len(failed) == len(pending):
            raise QueryRefused(f"The snapshot's views could not be rebuilt: {error}")
        pending = failed


def _read_capped(rel: duckdb.DuckDBPyRelation, max_bytes: int) -> pa.Table:
    """The result batch by batch, refused as soon as it passes `max_bytes` (its Arrow size):
    a wide result never sits whole in the server's memory."""
    reader = rel.to_arrow_reader(2048)
    batches, size = [], 0
    for batch in reader:
        size += batch.nbytes
        if size > max_bytes:
            raise QueryRefused(
                f"The result is larger than {max_bytes / 1e6:,.0f} MB (sql_max_result_bytes) and "
                "was stopped. Select fewer columns or rows, or export it from the command line: "
                "`triage export` or `duckdb <snapshot> -c \"COPY (…) TO 'out.parquet'\"` "
                "(docs/analysts.md).")
        batches.append(batch)
    return pa.Table.from_batches(batches, reader.schema)


def run_query(snapshot: Path, sql: str, row_limit: int = ROW_LIMIT,
              time_limit: float = TIME_LIMIT, max_bytes: int = MAX_RESULT_BYTES,
              viewer: Viewer | None = None) -> QueryResult:
    """Run one checked query on the snapshot, as `viewer` may see it (the visibility rule;
    None: everything). Longer than `time_limit` seconds: interrupted; larger than `max_bytes`:
    refused."""
    query = check_query(sql)
    row_limit = max(1, min(int(row_limit), MAX_ROW_LIMIT))
    con = _open_filtered(snapshot, viewer)
    timer = threading.Timer(time_limit, con.interrupt)
    start = time.perf_counter()
    timer.start()
    try:  # newlines keep a trailing `-- comment` from swallowing the closing parenthesis
        rel = con.sql(f"SELECT * FROM (\n{query}\n) LIMIT {row_limit + 1}")
        table = _read_capped(rel, max_bytes)
    except duckdb.InterruptException as e:
        raise QueryRefused(f"The query ran longer than {time_limit:g} s and was stopped. "
                           "Narrow it with WHERE or LIMIT.") from e
    except duckdb.PermissionException as e:
        raise QueryRefused(MSG_FILES) from e
    except duckdb.Error as e:
        raise QueryRefused(_first_line(e)) from e
    finally:
        timer.cancel()
        con.close()
    seconds = time.perf_counter() - start
    truncated = table.num_rows > row_limit
    return QueryResult(table.slice(0, row_limit), truncated, seconds)
