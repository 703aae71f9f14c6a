"""Browse at 100k transcripts: one page (first, last, filtered, text search) against loading
every row of the same query into pandas (what a page without SQL paging would do), measured
in the same run.

    python benchmarks/browse_bench.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.labels.browse import browse, browse_query  # noqa: E402
from core.store.browse import fetch_rows  # noqa: E402
from core.store.categories import register_taxonomy  # noqa: E402
from core.store.connection import connect  # noqa: E402
from core.taxonomy import load_taxonomy  # noqa: E402

FILL = """
INSERT INTO transcripts
SELECT 'b' || lpad(i::VARCHAR, 6, '0'), CASE WHEN i % 3 = 0 THEN 'shop' ELSE 'support' END,
       json_array(json_object('role', 'user', 'content', 'question number ' || i || ' about refunds'),
                  json_object('role', 'assistant', 'content', repeat('answer text ', 40))),
       NULL, NULL, json_object('channel', CASE WHEN i % 2 = 0 THEN 'web' ELSE 'email' END,
                               'tier', 'tier' || (i % 5)),
       md5(i::VARCHAR), 'bench', now()::TIMESTAMP, 2, false, 500, false,
       'b' || lpad(i::VARCHAR, 6, '0')
FROM range(?) t(i);
INSERT INTO annotations (annotation_id, transcript_id, annotator, kind, primary_label,
                         taxonomy_name, taxonomy_version, created_at)
SELECT 'a' || i, 'b' || lpad(i::VARCHAR, 6, '0'), CASE WHEN i % 2 = 0 THEN 'ann' ELSE 'bob' END,
       'label', 'reasoning', 'default', ?, now()::TIMESTAMP
FROM range(0, ?, 4) t(i);
"""


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        db = connect(Path(d) / "bench.duckdb")
        taxonomy = load_taxonomy()
        register_taxonomy(db, taxonomy)
        for stmt in FILL.strip().split(";\n"):
            params = [n] if "range(?)" in stmt else [taxonomy.version, n]
            db.con.execute(stmt, params)
        q = browse_query(db, "zoe")
        # What a table without SQL paging would do: the same query, every row into pandas.
        baseline = timed(lambda: fetch_rows(db, q, ["channel", "tier"], n, 0))
        cases = {
            "first page (100 rows)": lambda: browse(db, q, 1, 100),
            "last page": lambda: browse(db, q, n // 100, 100),
            "past the end (clamped)": lambda: browse(db, q, 10**9, 100),
            "status=single, channel=web": lambda: browse(
                db, browse_query(db, "zoe", status="single", meta_field="channel",
                                 meta_value="web"), 1, 100),
            "text search 'number 99999'": lambda: browse(
                db, browse_query(db, "zoe", text="number 99999"), 1, 100),
        }
        print(f"{n:,} transcripts, {n // 4:,} labels; baseline = the same query loading every "
              f"row into pandas: {baseline * 1000:.0f} ms")
        for name, fn in cases.items():
            t = timed(fn)
            print(f"  {name:32} {t * 1000:7.0f} ms  = {t / baseline:5.2f} x baseline")
        db.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
