"""How the report's cost grows: build_report at 100k labeled transcripts against 500, the
JSON export without the population estimate (goal ≤ 1 s at 100k), the HTML export with it
(build + render, goal ≤ 3 s), and the Report page's first draw in Chromium on a running server
(goal ≤ 1.5 s: the first heading after opening the page). Data is bulk-created with DuckDB SQL.

Run: python benchmarks/report_bench.py [--before DIR] [--no-page] [--no-pdf]
(--before DIR: also measure the Triage source tree in DIR, e.g. `git archive main | tar -x -C
DIR`, in the same run, each tree in a child process of its own; figures side by side.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("TRIAGE_SOURCE") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))

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


def page_first_draw(db_path: Path, tree: Path, repeat: int = 2) -> list[float]:
    """Seconds from opening /report to its first heading, on a server of `tree` already
    serving Home (imports warm, nothing of the report cached): the first visit, then again."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS, free_port, wait_healthy
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = dict(os.environ, TRIAGE_DB=str(db_path), TRIAGE_USER="bench",
               TRIAGE_LOG=str(db_path.parent / "triage.log"))
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(tree / "triage_app.py"),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false",
                             "--server.port", str(port)], cwd=tree, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = []
    try:
        base = f"http://localhost:{port}"
        wait_healthy(proc, base, timeout=120)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(base)
            page.locator("h1", has_text="Triage").first.wait_for(timeout=120_000)
            for _ in range(repeat):
                start = time.perf_counter()
                page.goto(f"{base}/report")
                page.locator("h1").first.wait_for(timeout=120_000)
                times.append(time.perf_counter() - start)
                page.goto(base)
                page.locator("h1", has_text="Triage").first.wait_for(timeout=120_000)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return times


def measure(tmp: Path, page: bool, pdf: bool) -> dict[str, float]:
    """This tree's figures (seconds), printed as measured."""
    figures: dict[str, float] = {}
    for n in (500, 100_000):
        db, taxonomy = make_db(tmp, n)
        seconds, report = timed(lambda db=db, t=taxonomy: build_report(
            db, t, slice_fields=["channel", "tier"]))
        figures[f"build_report n={n}"] = seconds
        print(f"build_report n={n:>7,}: {seconds:6.3f} s  verdict={report.verdict} "
              f"labeled={report.n_labeled:,} double-labeled={report.agreement.n_items:,} "
              f"alpha={report.agreement.krippendorff_alpha:.3f}", flush=True)
        if n == 100_000:
            floor_s, _ = timed(lambda db=db: db.con.execute(
                "SELECT f.primary_label, count(*) FROM final_labels f JOIN transcripts t "
                "USING (transcript_id) WHERE NOT t.archived GROUP BY 1").fetchall())
            figures["floor: final_labels GROUP BY"] = floor_s
            print(f"floor (SELECT count(*) FROM final_labels GROUP BY label) n={n:,}: "
                  f"{floor_s:6.3f} s", flush=True)
            json_s, doc = timed(lambda db=db, t=taxonomy: json.dumps(
                build_report(db, t, population=False).to_dict(), indent=2))
            figures["JSON, no population"] = json_s
            print(f"report JSON (no population) n={n:,}: {json_s:6.3f} s ({len(doc) / 1e3:.0f} kB) "
                  f"= {json_s / floor_s:.1f}× the floor; goal ≤ 1 s: "
                  f"{'met' if json_s <= 1 else 'MISSED'}", flush=True)
            html_s, page_html = timed(lambda db=db, t=taxonomy: render_html(build_report(db, t), t))
            figures["HTML (build + render)"] = html_s
            print(f"report HTML (build + render) n={n:,}: {html_s:6.3f} s "
                  f"({len(page_html) / 1e6:.1f} MB) = {html_s / floor_s:.1f}× the floor; goal ≤ 3 s: {'met' if html_s <= 3 else 'MISSED'}",
                  flush=True)
            if pdf and find_browser():
                pdf_s, out = timed(lambda p=page_html: html_to_pdf(p), repeat=1)
                print(f"html_to_pdf n={n:>7,}: {pdf_s:6.3f} s  ({len(out) / 1e3:.0f} kB, "
                      "headless Chromium)", flush=True)
        db.close()
        if n == 100_000 and page:
            first, again = page_first_draw(tmp / f"bench_{n}.duckdb", ROOT)
            figures["Report page first draw"], figures["Report page, second visit"] = first, again
            print(f"Report page first draw n={n:,}: {first:6.3f} s (second visit {again:.3f} s) "
                  f"goal ≤ 1.5 s: {'met' if first <= 1.5 else 'MISSED'}", flush=True)
    ratio = figures["build_report n=100000"] / figures["build_report n=500"]
    print(f"ratio 100k / 500 = {ratio:.1f}× for 200× the data", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, help="another Triage source tree to measure too")
    parser.add_argument("--no-page", action="store_true", help="skip the Chromium page figure")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF export")
    parser.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)  # a child's figures
    args = parser.parse_args()
    before = None
    if args.before:
        print(f"== before: {args.before}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "before.json"
            cmd = [sys.executable, __file__, "--json-out", str(out)]
            cmd += ["--no-page"] * args.no_page + ["--no-pdf"] * args.no_pdf
            subprocess.run(cmd, env=dict(os.environ, TRIAGE_SOURCE=str(args.before.resolve())),
                           check=True)
            before = json.loads(out.read_text())
        print(f"== after: {ROOT}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(Path(tmp), not args.no_page, not args.no_pdf)
    if args.json_out:
        args.json_out.write_text(json.dumps(figures))
    if before:
        print("\nfigure                          before     after   after/before")
        for name, after in figures.items():
            if name in before:
                print(f"{name:<30} {before[name]:7.3f} s {after:7.3f} s   {after / before[name]:.2f}×")


if __name__ == "__main__":
    main()
