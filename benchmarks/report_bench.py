"""How the report's cost grows: build_report at 100k labeled transcripts against 500 (goal
≤ 2 s at 100k), and the HTML export at 100k (goal ≤ 5 s). Data is bulk-created with DuckDB SQL.

Run: python benchmarks/report_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.report.build import build_report  # noqa: E402
from core.report.pdf import find_browser, html_to_pdf  # noqa: E402
from core.report.render import render_html  # noqa: E402
from core.store.categories import register_taxonomy  # noqa: E402
from core.store.connection import connect  # noqa: E402
from core.taxonomy import load_taxonomy  # noqa: E402

# 20% of transcripts get a second, blind label (the default overlap share); 90% of those agree.
FILL = """
INSERT INTO transcripts
SELECT 'b' || i, 'bench', '[{"role":"user","content":"Where is my order ' || i || '?"}]',
       NULL, NULL, json_object('channel', ['web','email','chat'][i % 3 + 1], 'tier',
       ['free','pro'][i % 2 + 1]), md5(i::VARCHAR), NULL, TIMESTAMP '2026-03-01', 1, false, 30, false, 'b' || i
FROM range($n) t(i);
INSERT INTO annotations (annotation_id, transcript_id, annotator, kind, primary_label,
    context_present, queue, taxonomy_name, taxonomy_version, created_at, origin)
SELECT 'a' || i, 'b' || i, 'ann' || (i % 4), 'label', $keys[(hash(i) % len($keys))::BIGINT + 1],
       ['yes','no','unknown'][i % 3 + 1], CASE WHEN i % 20 = 0 THEN 'low_confidence' ELSE 'random' END,
       $name, $version, TIMESTAMP '2026-03-01' + to_seconds(i), 'app'
FROM range($n) t(i);
INSERT INTO annotations (annotation_id, transcript_id, annotator, kind, primary_label,
    context_present, queue, taxonomy_name, taxonomy_version, created_at, origin)
SELECT 's' || i, 'b' || i, 'ann' || ((i + 1) % 4), 'label',
       CASE WHEN i % 10 = 0 THEN $keys[((hash(i) + 1) % len($keys))::BIGINT + 1]
            ELSE $keys[(hash(i) % len($keys))::BIGINT + 1] END,
       'yes', 'random', $name, $version, TIMESTAMP '2026-03-02' + to_seconds(i), 'app'
FROM range($n) t(i) WHERE i % 5 = 0;
"""


def make_db(folder: Path, n: int):
    taxonomy = load_taxonomy("default")
    db = connect(folder / f"bench_{n}.duckdb")
    register_taxonomy(db, taxonomy)
    # Skew towards pipeline categories so the verdict is decided.
    keys = ["wrong_retrieval"] * 3 + ["missing_knowledge", "noisy_context", "missed_tool_call",
                                      "tone_policy", "escalation", "schema_format", "reasoning",
                                      "no_failure"]
    con = db.con
    with db.transaction():
        params = {"n": n, "keys": keys, "name": taxonomy.name, "version": taxonomy.version}
        for statement in FILL.split(";"):
            if statement.strip():
                used = {k: v for k, v in params.items() if f"${k}" in statement}
                con.execute(statement, used)
    return db, taxonomy


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for n in (500, 100_000):
            db, taxonomy = make_db(Path(tmp), n)
            seconds, report = timed(lambda db=db, t=taxonomy: build_report(
                db, t, slice_fields=["channel", "tier"]))
            figures[n] = seconds
            print(f"build_report n={n:>7,}: {seconds:6.3f} s  verdict={report.verdict} "
                  f"labeled={report.n_labeled:,} double-labeled={report.agreement.n_items:,} "
                  f"alpha={report.agreement.krippendorff_alpha:.3f}")
            if n == 100_000:
                html_s, page = timed(lambda r=report, t=taxonomy: render_html(r, t))
                print(f"render_html n={n:>7,}: {html_s:6.3f} s  ({len(page) / 1e6:.1f} MB)  "
                      f"goal ≤ 5 s: {'met' if html_s <= 5 else 'MISSED'}")
                if find_browser():
                    pdf_s, pdf = timed(lambda p=page: html_to_pdf(p), repeat=1)
                    print(f"html_to_pdf n={n:>7,}: {pdf_s:6.3f} s  ({len(pdf) / 1e3:.0f} kB, "
                          "headless Chromium)")
            db.close()
        ratio = figures[100_000] / figures[500]
        print(f"ratio 100k / 500 = {ratio:.1f}× for 200× the data; goal ≤ 2 s at 100k: "
              f"{'met' if figures[100_000] <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
