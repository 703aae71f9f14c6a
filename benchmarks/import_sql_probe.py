"""Probe for issue 16.3's bulk path: can DuckDB compute today's `content_hash` itself, and is
that faster than the Python that does it now?

`content_hash` is sha256 over Python's canonical JSON (sorted keys at every depth, `,`/`:`,
ensure_ascii=False: core/ingest/records.py). DuckDB has no sorted-key serialiser, so this probe
builds that text in SQL for the record shape import_bench writes (and real logs mostly have):
each object cast to a MAP, its entries sorted, each value checked and written, one explicit
level per depth (a generic recursive macro cannot be written: nested macros made the binder
use >3 GB at depth 5, and the process was killed at ~24 GB at depth 7). Anything the SQL
cannot vouch for becomes chr(0), so the row would go to Python. The same run times Python's
read + validate + canonical JSON + hash on the same file, and checks every SQL-accepted row
byte for byte against Python. It also times two other forms: a set-based one (unnest,
string_agg in key order) and a hash redefined over json_tree (the other design, key-order free).

Run: .venv/bin/python benchmarks/import_sql_probe.py [--rows 20000] [--keep DIR]
It also prints what DuckDB writes differently from Python (the traps a bulk path must route
to Python)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from import_bench import generate  # noqa: E402

from core.ingest.readers import read_rows  # noqa: E402
from core.ingest.records import PreparedRow, canonical_json  # noqa: E402
from core.ingest.rows import checked_rows  # noqa: E402

ROLES = "('\"system\"', '\"developer\"', '\"user\"', '\"assistant\"', '\"tool\"', '\"function\"')"
MACROS = [
    # A scalar as Python writes it, else chr(0): yyjson writes 1e20 as 100000000000000000000.0,
    # 1e-5 as 0.00001 and reads integers past 64 bits as doubles, so only plain fixed-point
    # floats in Python's fixed range and integers up to 18 digits pass.
    r"""CREATE TEMP MACRO _scalar(v) AS CASE
      WHEN v[1] = '"' OR v IN ('true', 'false', 'null') OR regexp_full_match(v, '-?[0-9]{1,18}') THEN v
      WHEN regexp_full_match(v, '-?(0|[1-9][0-9]{0,15})\.[0-9]+')
           AND (abs(TRY_CAST(v AS DOUBLE)) >= 1e-4 OR TRY_CAST(v AS DOUBLE) = 0) THEN v
      ELSE chr(0) END""",
    r"""CREATE TEMP MACRO _str(v) AS CASE WHEN v[1] = '"' THEN v ELSE chr(0) END""",
    r"""CREATE TEMP MACRO _str_or_null(v) AS CASE WHEN v[1] = '"' OR v = 'null' THEN v ELSE chr(0) END""",
    # A MAP value that is JSON null comes back as SQL NULL: written back as 'null'. Duplicate
    # keys make the cast fail (NULL), so the row goes to Python, which keeps the last one.
    r"""CREATE TEMP MACRO _entries(j) AS list_sort(list_transform(
      map_entries(TRY_CAST(TRY_CAST(j AS JSON) AS MAP(VARCHAR, JSON))),
      lambda x: {'key': x.key, 'value': coalesce(x.value::VARCHAR, 'null')}))""",
    r"""CREATE TEMP MACRO _arr(j) AS list_transform(TRY_CAST(TRY_CAST(j AS JSON) AS JSON[]),
      lambda y: y::VARCHAR)""",
    r"""CREATE TEMP MACRO _obj(l) AS '{' || array_to_string(l, ',') || '}'""",
    r"""CREATE TEMP MACRO _function(j) AS coalesce(_obj(list_transform(_entries(j), lambda ef:
      to_json(ef.key)::VARCHAR || ':' || CASE ef.key WHEN 'name' THEN _str(ef.value)
      WHEN 'arguments' THEN _str_or_null(ef.value) ELSE chr(0) END)), chr(0))""",
    r"""CREATE TEMP MACRO _call(j) AS coalesce(_obj(list_transform(_entries(j), lambda ec:
      to_json(ec.key)::VARCHAR || ':' || CASE ec.key WHEN 'function' THEN _function(ec.value)
      WHEN 'id' THEN _str_or_null(ec.value) WHEN 'type' THEN _str(ec.value) ELSE chr(0) END)), chr(0))
      || CASE WHEN json_exists(j, '$.function') THEN '' ELSE chr(0) END""",
    r"""CREATE TEMP MACRO _calls(j) AS CASE WHEN j = 'null' THEN j ELSE coalesce('['
      || array_to_string(list_transform(_arr(j), lambda c: _call(c)), ',') || ']', chr(0)) END""",
    f"""CREATE TEMP MACRO _message(j) AS coalesce(_obj(list_transform(_entries(j), lambda em:
      to_json(em.key)::VARCHAR || ':' || CASE em.key
        WHEN 'role' THEN CASE WHEN em.value IN {ROLES} THEN em.value ELSE chr(0) END
        WHEN 'content' THEN _str_or_null(em.value) WHEN 'name' THEN _str_or_null(em.value)
        WHEN 'tool_call_id' THEN _str_or_null(em.value) WHEN 'tool_calls' THEN _calls(em.value)
        ELSE chr(0) END)), chr(0))""",
    r"""CREATE TEMP MACRO _doc(j) AS coalesce(_obj(list_transform(_entries(j), lambda ed:
      to_json(ed.key)::VARCHAR || ':' || CASE ed.key WHEN 'text' THEN _str(ed.value)
      WHEN 'source' THEN _str_or_null(ed.value) ELSE chr(0) END)), chr(0))
      || CASE WHEN json_exists(j, '$.text') THEN '' ELSE chr(0) END""",
]

# Lines with their numbers (read_csv splits at '\r' too, so a CRLF file would need Python);
# trailing commas and NaN, which DuckDB's reader accepts and Python's refuses, go to Python.
STAGE = r"""
CREATE TEMP TABLE probe AS
WITH lines AS (
  SELECT ordinality AS n, line
  FROM read_csv(?, columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='', escape='',
                auto_detect=false, strict_mode=false, new_line='\n') WITH ORDINALITY),
parts AS (
  SELECT n, r['id']::VARCHAR AS id, r['messages']::VARCHAR AS msgs, r['context']::VARCHAR AS ctx,
    r['tools']::VARCHAR AS tools, r['metadata']::VARCHAR AS meta,
    r IS NOT NULL AND list_has_all(['id', 'messages', 'metadata', 'context', 'tools'], map_keys(r))
      AND NOT regexp_matches(line, ',[ \t\n\r]*[\]}]') AS shape_ok
  FROM (SELECT n, line, TRY_CAST(TRY_CAST(line AS JSON) AS MAP(VARCHAR, JSON)) AS r FROM lines)),
canon AS (
  SELECT n, shape_ok, id,
    coalesce('[' || array_to_string(list_transform(_arr(msgs), lambda m: _message(m)), ',') || ']',
             chr(0)) AS m_json,
    CASE WHEN ctx IS NULL OR ctx = '[]' THEN NULL ELSE coalesce('[' || array_to_string(
      list_transform(_arr(ctx), lambda d: _doc(d)), ',') || ']', chr(0)) END AS c_json,
    CASE WHEN tools IS NULL OR tools = '[]' THEN NULL ELSE chr(0) END AS t_json,
    CASE WHEN meta IS NULL THEN '{}' ELSE coalesce(_obj(list_transform(_entries(meta),
      lambda e: to_json(e.key)::VARCHAR || ':' || _scalar(e.value))), chr(0)) END AS meta_json
  FROM parts)
SELECT n, m_json, c_json, t_json, meta_json,
  CASE WHEN id[1] = '"' THEN id::JSON->>'$' ELSE id END AS record_id,
  sha256('{"context":' || coalesce(c_json, 'null') || ',"messages":' || m_json || ',"tools":'
         || coalesce(t_json, 'null') || '}') AS content_hash,
  -- yyjson writes \u000B where Python writes \u000b: such rows go to Python too.
  shape_ok AND m_json <> '[]'
    AND (regexp_full_match(id, '-?[0-9]{1,18}') OR (id[1] = '"' AND regexp_matches(id, '[A-Za-z0-9]')))
    AND NOT contains(m_json || coalesce(c_json, '') || meta_json, chr(0))
    AND NOT regexp_matches(m_json || coalesce(c_json, '') || meta_json, '\\u00[01][A-F]') AS ok
FROM canon
"""

TRAPS = ['"\\u000b"', "1.0", "1e20", "1e16", "1e-05", "0.1", "123456789012345678901234",
         "[1,]", "NaN"]


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def python_prepare(path: Path) -> tuple[float, float, dict[int, PreparedRow]]:
    """Today's per-row work (read, validate, canonical JSON, hash): wall and CPU seconds."""
    start, cpu = time.perf_counter(), _cpu()
    rows = {raw.number: p for raw, p in checked_rows(read_rows(path, "jsonl"), "jsonl", {})}
    return time.perf_counter() - start, _cpu() - cpu, rows


def sql_prepare(path: Path, memory_limit: str) -> tuple[float, float, duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    for macro in MACROS:
        con.execute(macro)
    start, cpu = time.perf_counter(), _cpu()
    con.execute(STAGE, [str(path)])
    return time.perf_counter() - start, _cpu() - cpu, con


# The other design (a previous attempt): content_hash redefined over DuckDB's json_tree, which
# does not depend on key order. Timed here over the messages alone.
TREE_HASH = """SELECT count(DISTINCT h) FROM (SELECT n, sha256(string_agg(fullkey || ':' || type || ':'
  || coalesce(atom::VARCHAR, ''), chr(10) ORDER BY fullkey)) AS h
  FROM (SELECT ordinality AS n, json_extract(line, '$.messages') AS m FROM read_csv(?,
        columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='', escape='',
        auto_detect=false, strict_mode=false, new_line='\\n') WITH ORDINALITY) AS p,
  json_tree(p.m) GROUP BY n)"""


def tree_hash(con: duckdb.DuckDBPyConnection, path: Path, py_s: float, py_cpu: float) -> None:
    start, cpu = time.perf_counter(), _cpu()
    try:
        con.execute(TREE_HASH, [str(path)]).fetchall()
    except duckdb.OutOfMemoryException:
        print("duckdb json_tree hash (messages)    out of memory at the limit given")
        return
    tree_s, tree_cpu = time.perf_counter() - start, _cpu() - cpu
    print(f"duckdb json_tree hash (messages)    {tree_s:6.2f} s  CPU {tree_cpu:6.2f} s  "
          f"{tree_s / py_s:5.2f}x python (wall), {tree_cpu / py_cpu:5.2f}x (CPU)")


# Set-based instead of lambdas: messages unnested to rows, their keys to rows, string_agg back
# in key order. One level only (tool_calls left as DuckDB wrote them), no checks, no hash: a
# lower bound for that form.
UNNEST = [
    r"""CREATE TEMP TABLE u_m AS SELECT n, unnest(a) AS msg, generate_subscripts(a, 1) AS i
      FROM (SELECT ordinality AS n, TRY_CAST(json_extract(line, '$.messages') AS JSON[]) AS a
            FROM read_csv(?, columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='',
                 escape='', auto_detect=false, strict_mode=false, new_line='\n') WITH ORDINALITY)""",
    """CREATE TEMP TABLE u_e AS SELECT n, i,
      unnest(map_entries(TRY_CAST(msg AS MAP(VARCHAR, JSON))), recursive := true) FROM u_m""",
    """CREATE TEMP TABLE u_j AS SELECT n, '[' || string_agg(j, ',' ORDER BY i) || ']' AS j FROM (
      SELECT n, i, '{' || string_agg(to_json(key)::VARCHAR || ':' || coalesce(value::VARCHAR, 'null'),
             ',' ORDER BY key) || '}' AS j FROM u_e GROUP BY n, i) GROUP BY n""",
]


def unnest_messages(con: duckdb.DuckDBPyConnection, path: Path, py_s: float, py_cpu: float) -> None:
    start, cpu = time.perf_counter(), _cpu()
    con.execute(UNNEST[0], [str(path)])
    for sql in UNNEST[1:]:
        con.execute(sql)
    u_s, u_cpu = time.perf_counter() - start, _cpu() - cpu
    for table in ("u_m", "u_e", "u_j"):
        con.execute(f"DROP TABLE {table}")
    print(f"duckdb unnest+string_agg (1 level)  {u_s:6.2f} s  CPU {u_cpu:6.2f} s  "
          f"{u_s / py_s:5.2f}x python (wall), {u_cpu / py_cpu:5.2f}x (CPU)")


def compare(con: duckdb.DuckDBPyConnection, want: dict[int, PreparedRow]) -> tuple[int, int]:
    """(rows SQL accepted, of those differing from Python in any stored text or the hash)."""
    accepted = differing = 0
    for n, rid, m, c, t, meta, h in con.execute(
            "SELECT n, record_id, m_json, c_json, t_json, meta_json, content_hash FROM probe "
            "WHERE ok").fetchall():
        accepted += 1
        p = want[n]
        differing += (rid, m, c, t, meta, h) != (p.record_id, p.messages, p.context, p.tools,
                                                 p.metadata, p.content_hash)
    return accepted, differing


def traps() -> None:
    con = duckdb.connect()
    print("value as DuckDB writes it vs Python's canonical JSON (json_valid = DuckDB accepts it):")
    for text in TRAPS:
        duck, valid = con.execute("SELECT json_extract(TRY_CAST(?::VARCHAR AS JSON), '$')::VARCHAR, "
                                  "json_valid(?)",
                                  [text, text]).fetchone()
        try:
            py = canonical_json(json.loads(text))
        except json.JSONDecodeError:
            py = "(refused)"
        print(f"  {text:28} duckdb {duck!s:28} python {py:28} json_valid {valid}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--keep", type=Path, help="work in this folder instead of a temp one")
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--file", type=Path, help="probe this JSONL instead of a generated one")
    ap.add_argument("--no-tree", action="store_true", help="skip the json_tree hash timing")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="import_sql_probe_"))
    work.mkdir(parents=True, exist_ok=True)
    data = args.file or work / f"probe_{args.rows}.jsonl"
    if not data.exists():
        generate(data, args.rows)
    py_s, py_cpu, want = python_prepare(data)
    sql_s, sql_cpu, con = sql_prepare(data, args.memory_limit)
    accepted, differing = compare(con, want)
    print(f"file: {data.name}, {len(want):,} transcripts, {data.stat().st_size / 1e6:.0f} MB; {os.cpu_count()} "
          f"CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"python read+validate+canonical+hash {py_s:6.2f} s  CPU {py_cpu:6.2f} s  1.00x")
    print(f"duckdb SQL canonical JSON + hash    {sql_s:6.2f} s  CPU {sql_cpu:6.2f} s  "
          f"{sql_s / py_s:5.2f}x python (wall), {sql_cpu / py_cpu:5.2f}x (CPU)")
    print(f"SQL accepted {accepted:,} of {len(want):,} rows; {differing:,} differ from Python "
          f"byte for byte; process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    con.execute("DROP TABLE probe")
    unnest_messages(con, data, py_s, py_cpu)
    if not args.no_tree:
        tree_hash(con, data, py_s, py_cpu)
    traps()


if __name__ == "__main__":
    main()
