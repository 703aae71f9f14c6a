"""Analysts' figures: snapshot time and size, and export times, at 500 and 100k transcripts.

    /work/venv/bin/python benchmarks/analysts_bench.py [--sizes 500 100000] [--viewer]

--viewer adds the visibility rule's cost: one SQL page query and the exports as a reviewing
analyst (r0, who labeled a third of the labeled transcripts; the other overlap items carry one
other reviewer's label, hidden from r0) against the same as an analyst who labels nothing.

Data is bulk-created with SQL; times are the best of 3 for the snapshot and baselines. Baselines measured in the same run: a plain file copy of the
checkpointed live database (for the snapshot) and DuckDB's native `COPY … TO parquet` of the
same table (for the exports)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.analysts.exports import export  # noqa: E402
from core.labels.visibility import viewer_for  # noqa: E402
from core.store.categories import register_taxonomy  # noqa: E402
from core.store.connection import Database, connect  # noqa: E402
from core.store.sandbox import run_query  # noqa: E402
from core.store.settings import set_setting  # noqa: E402
from core.store.snapshot import write_snapshot  # noqa: E402
from core.store.visibility import hidden_counts  # noqa: E402
from core.taxonomy import load_taxonomy  # noqa: E402

TRANSCRIPTS_SQL = """
INSERT INTO transcripts
SELECT 't' || i, 'bench',
       json_array(json_object('role', 'system', 'content', 'You are a support assistant.'),
                  json_object('role', 'user', 'content', 'Question ' || i || ': ' || repeat('why does my order not arrive ', 8)),
                  json_object('role', 'assistant', 'content', repeat('Here is what I found. ', 20))),
       NULL, NULL,
       json_object('channel', ['web', 'email', 'chat'][1 + i % 3], 'model', 'gpt-4o'),
       md5(i::VARCHAR), NULL, now()::TIMESTAMP, 3, false, 700, false, 't' || i
FROM range(?) r(i)
"""
ANNOTATIONS_SQL = """
INSERT INTO annotations (annotation_id, transcript_id, annotator, kind, primary_label,
    secondary_labels, context_present, severity, failure_turn, ideal_response, taxonomy_name,
    taxonomy_version, created_at, origin)
SELECT 'a' || i, 't' || i, 'r' || (i % 3), 'label', k.key, [], 'yes', 'medium', 2,
       CASE WHEN k.fix_class = 'behavior' THEN 'The ideal answer ' || i END,
       k.taxonomy_name, k.taxonomy_version, now()::TIMESTAMP, 'import'
FROM range(?) r(i)
JOIN (SELECT *, row_number() OVER (ORDER BY position) - 1 AS n FROM categories) k
  ON k.n = i % (SELECT count(*) FROM categories)
"""
PRELABELS_SQL = """
INSERT INTO prelabels (prelabel_id, transcript_id, labeler, model, prompt_version,
    taxonomy_version, status, primary_label, secondary_labels, confidence, created_at)
SELECT 'p' || i, 't' || i, 'offline', 'tfidf', 'v1', 'x', 'ok', 'wrong_retrieval', [],
       0.5, now()::TIMESTAMP
FROM range(?) r(i)
"""


def build(path: Path, n: int) -> Database:
    """A database with n transcripts, labels on half of them, a pre-label on each."""
    db = connect(path)
    register_taxonomy(db, load_taxonomy("default"))
    con = db.con
    with db.transaction():
        con.execute(TRANSCRIPTS_SQL, [n])
        con.execute(ANNOTATIONS_SQL, [n // 2])
        con.execute(PRELABELS_SQL, [n])
    db.con.execute("CHECKPOINT")
    return db


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    """Best wall time of `repeat` runs (the machine is shared), and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def label_latency(db: Database, n: int) -> float:
    """Worst time of n one-row label inserts, each its own committed transaction."""
    worst = 0.0
    for i in range(n):
        start = time.perf_counter()
        con = db.con
        with db.transaction():
            con.execute("INSERT INTO settings VALUES ('bench', ?, 'bench', now()::TIMESTAMP)",
                        [str(i)])
        worst = max(worst, time.perf_counter() - start)
    return worst


def latency_during_snapshot(db: Database) -> tuple[float, float]:
    """Worst write latency alone, and while a snapshot is being written on another thread."""
    alone = label_latency(db, 20)
    thread = threading.Thread(target=write_snapshot, args=(db,))
    thread.start()
    during = label_latency(db, 20)
    thread.join()
    return alone, during


def bench_viewer(db: Database, snapshot: Path) -> None:
    """The rule's cost: a query on the SQL page and two exports, as r0 (reviews) and as ana
    (labels nothing: the snapshot as is, the exports unfiltered). r0's first query writes the
    file of the transcripts table beside the snapshot (once per content of that table)."""
    query = "SELECT status, count(*) FROM final_labels GROUP BY 1"
    for display in ("shown", "blind"):
        set_setting(db, "prelabel_display", display, "bench")
        write_snapshot(db, snapshot)
        for stale in snapshot.parent.glob(f".{snapshot.name}.transcripts-*.duckdb"):
            stale.unlink()
        r0, ana = viewer_for(db, "r0"), viewer_for(db, "ana")
        labels, prelabels = hidden_counts(db, r0)
        print(f"prelabel_display={display}: r0 has the labels of {labels:,} transcripts and "
              f"the pre-labels of {prelabels:,} hidden")
        first, _ = timed(lambda r0=r0: run_query(snapshot, query, viewer=r0))
        base, _ = timed(lambda ana=ana: run_query(snapshot, query, viewer=ana), 3)
        ruled, _ = timed(lambda r0=r0: run_query(snapshot, query, viewer=r0), 3)
        print(f"  SQL page query: {ruled:.3f} s as r0 vs {base:.3f} s as ana "
              f"({ruled / base:.1f}x); r0's first query {first:.2f} s")
        for what, fmt in (("annotations", "parquet"), ("prelabels", "parquet")):
            out = snapshot.parent / f"v-{what}.{fmt}"
            b, _ = timed(lambda what=what, fmt=fmt, out=out: export(db, what, fmt, out), 3)
            r, _ = timed(lambda what=what, fmt=fmt, out=out, r0=r0:
                         export(db, what, fmt, out, viewer=r0), 3)
            print(f"  export {what:<12}: {r:.3f} s as r0 vs {b:.3f} s unfiltered ({r / b:.1f}x)")
    set_setting(db, "prelabel_display", "shown", "bench")


def bench_size(folder: Path, n: int, viewer: bool = False) -> None:
    db = build(folder / "live.duckdb", n)
    copy_s, _ = timed(lambda: shutil.copyfile(db.path, folder / "plain-copy.duckdb"), 3)
    snap_s, info = timed(lambda: write_snapshot(db), 3)
    live_mb = db.path.stat().st_size / 1e6
    print(f"\n== {n} transcripts (live file {live_mb:.1f} MB) ==")
    print(f"snapshot: {snap_s:.2f} s, {info.size_bytes / 1e6:.1f} MB "
          f"({snap_s / copy_s:.1f}x a plain file copy of {copy_s:.3f} s; "
          f"size {info.size_bytes / 1e6 / live_mb:.2f}x the live file)")
    alone, during = latency_during_snapshot(db)
    print(f"worst write latency: {alone * 1000:.1f} ms alone, {during * 1000:.1f} ms while a "
          f"snapshot is written ({during / alone:.1f}x)")
    native_s, _ = timed(lambda: db.con.execute(
        f"COPY transcripts TO '{folder / 'native.parquet'}' (FORMAT parquet)"), 3)
    print(f"baseline native COPY transcripts TO parquet: {native_s:.2f} s")
    runs = [("transcripts", "jsonl"), ("transcripts", "parquet"), ("annotations", "csv"),
            ("final-labels", "parquet"), ("prelabels", "jsonl"), ("eval-set", "jsonl"),
            ("tuning-seed", "jsonl")]
    for what, fmt in runs:
        out = folder / f"{what}.{fmt}" if what != "eval-set" else folder / "evalset"
        seconds, result = timed(lambda what=what, fmt=fmt, out=out: export(db, what, fmt, out))
        rows = sum(result.files.values())
        print(f"export {what:<12} {fmt:<7}: {seconds:6.2f} s, {rows:>7} rows "
              f"({seconds / native_s:5.1f}x native)")
    if viewer:
        bench_viewer(db, info.path)
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 100_000])
    parser.add_argument("--viewer", action="store_true", help="add the visibility rule's cost")
    parser.add_argument("--answer-repeats", type=int, default=20,
                        help="how long each assistant answer is (20: ~0.5 kB per transcript)")
    args = parser.parse_args()
    import pyarrow.csv  # noqa: F401 - imports are not export time
    import sklearn.model_selection  # noqa: F401
    global TRANSCRIPTS_SQL
    TRANSCRIPTS_SQL = TRANSCRIPTS_SQL.replace("found. ', 20)", f"found. ', {args.answer_repeats})")
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
            bench_size(Path(tmp), n, args.viewer)


if __name__ == "__main__":
    main()
