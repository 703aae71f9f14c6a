"""Annotate benchmark: "save label + load next transcript" through core (the queue calls, and
the Annotate session's whole choose + save event), and AppTest reruns of the Annotate page, at
500 and at 100k transcripts (the ratio shows how cost grows), and the rerun for a 1 MB /
500-message transcript. Then, in headless Chromium against a real `triage app` on the 100k
database: save → next over 50 saves (S pressed → the next transcript drawn and the run over),
beside the same page's rerun with no save (a category key: the page redrawn, nothing written)
and the rerun of a one-button Streamlit app (the floor), in the same run, alternating. --before DIR measures another source tree too, alternating with
this one (e.g. `git archive main | tar -x -C DIR`).

    python benchmarks/annotate_bench.py [--big-n 100000] [--iterations 200] [--saves 50]
        [--browser-only] [--before DIR] [--labels 300]

Goals: core ≤ 20 ms median, rerun ≤ 300 ms median at 100k; in Chromium (issue 16.5) save →
next ≤ 120 ms median, ≤ 300 ms p95.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.labels.annotate import label_row, submit  # noqa: E402
from core.labels.keys import Event  # noqa: E402
from core.labels.queues import QueueSpec, load_queue  # noqa: E402
from core.labels.session import AnnotateSession  # noqa: E402
from core.store.categories import register_taxonomy  # noqa: E402
from core.store.connection import connect  # noqa: E402
from core.store.transcripts import get_transcript  # noqa: E402
from core.taxonomy import load_taxonomy  # noqa: E402
from tests.annotate_helpers import big_record, close_open_databases, tool_record  # noqa: E402
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, free_port, wait_healthy  # noqa: E402
from tests.conftest import add_transcripts  # noqa: E402

PAGE = str(ROOT / "pages" / "annotate.py")


def build_db(path: Path, n: int, n_labels: int = 300) -> None:
    """n transcripts (one realistic record repeated under n ids), some labels and pre-labels."""
    db = connect(path)
    tax = load_taxonomy("default")
    register_taxonomy(db, tax)
    rec = tool_record(0)
    db.con.execute(
        "INSERT INTO transcripts SELECT 'b' || lpad(CAST(i AS VARCHAR), 6, '0'), 'bench', ?, ?, "
        "NULL, '{\"channel\": \"web\"}', md5(CAST(i AS VARCHAR)), NULL, now(), 5, true, 1200, "
        "false, 'b' || lpad(CAST(i AS VARCHAR), 6, '0') FROM range(?) t(i)", [json.dumps(rec["messages"]), json.dumps(rec["context"]), n])
    db.con.execute(
        "INSERT INTO prelabels (prelabel_id, transcript_id, labeler, model, prompt_version, "
        "taxonomy_version, status, primary_label, confidence, rationale, evidence, created_at) "
        "SELECT 'p' || i, 'b' || lpad(CAST(i AS VARCHAR), 6, '0'), 'offline', 'bench', 'p1', ?, "
        "'ok', 'tone_policy', (i % 97) / 97.0, 'r', 'e', now() FROM range(0, ?, 2) t(i)",
        [tax.version, n])
    spec = QueueSpec()
    if n_labels <= 1000:
        for k in range(n_labels):
            item = load_queue(db, f"seed{k % 3}", spec).next()
            submit(db, label_row(item, f"seed{k % 3}", tax, "reasoning"), tax.keys)
    else:  # in bulk, as benchmarks/report_bench.py does: one label on 9 transcripts in 10
        # (by 4 annotators, dated yesterday), a second on 1 in 10; 1 in 10 left unlabeled
        single = n_labels * 9 // 10
        db.con.execute(
            "INSERT INTO annotations (annotation_id, transcript_id, annotator, kind, "
            "primary_label, queue, taxonomy_name, taxonomy_version, created_at, origin) "
            "SELECT 'a' || i, 'b' || lpad(CAST(i + i // 9 AS VARCHAR), 6, '0'), 'ann' || (i % 4), "
            "'label', 'reasoning', 'random', ?, ?, now() - INTERVAL 1 DAY + to_seconds(i / 10), "
            "'app' FROM range(?) t(i)", [tax.name, tax.version, single])
        db.con.execute(
            "INSERT INTO annotations (annotation_id, transcript_id, annotator, kind, "
            "primary_label, queue, taxonomy_name, taxonomy_version, created_at, origin) "
            "SELECT 's' || i, 'b' || lpad(CAST(10 * i AS VARCHAR), 6, '0'), "
            "'ann' || ((i * 9 + 1) % 4), 'label', 'tone_policy', 'random', ?, ?, "
            "now() - INTERVAL 1 DAY + to_seconds(i / 10), 'app' FROM range(?) t(i)",
            [tax.name, tax.version, n_labels - single])
    db.close()


def time_core(path: Path, iterations: int) -> list[float]:
    """ms per 'save label + load next transcript (+ progress)' for one reviewer."""
    db = connect(path)
    tax = load_taxonomy("default")
    spec = QueueSpec()
    state = load_queue(db, "bench", spec)
    item = state.next()
    out = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        submit(db, label_row(item, "bench", tax, "escalation", duration_ms=1), tax.keys)
        state = load_queue(db, "bench", spec)
        item = state.next()
        state.progress()
        get_transcript(db, item.transcript_id)
        out.append((time.perf_counter() - t0) * 1000)
    db.close()
    return out


def time_session(path: Path, iterations: int) -> list[float]:
    """ms per 'choose + save' through the Annotate session: the save, the next item, its
    transcript and pre-label, as the page gets them (no Streamlit)."""
    db = connect(path)
    session = AnnotateSession(db, "bench-session", load_taxonomy("default"))
    session.show_queue(QueueSpec())
    out = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        session.push(Event("choose", "escalation"), Event("save"))
        session.run()
        out.append((time.perf_counter() - t0) * 1000)
        assert session.pending is None and session.item is not None
    db.close()
    return out


def time_reruns(path: Path, reruns: int, save: bool) -> list[float]:
    """ms per AppTest run of the Annotate page: a plain rerun, or choose + save (two runs)."""
    from streamlit.testing.v1 import AppTest

    os.environ["TRIAGE_DB"] = str(path)
    os.environ["TRIAGE_USER"] = "apptest"
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    out = []
    for _ in range(reruns):
        t0 = time.perf_counter()
        if save:
            at.button(key="cat_reasoning").click().run()
            at.button(key="act_save").click().run()
        else:
            at.run()
        out.append((time.perf_counter() - t0) * 1000)
        assert not at.exception, at.exception
    return out


def p95(ms: list[float]) -> float:
    return sorted(ms)[max(0, int(len(ms) * 0.95) - 1)]


def summary(name: str, ms: list[float]) -> float:
    med = statistics.median(ms)
    print(f"{name:<48} median {med:7.1f} ms   p95 {p95(ms):7.1f} ms   (n={len(ms)})")
    return med


# True once the script run is over (as tests/e2e/test_annotate_e2e.py waits for it).
SETTLED = ("() => !document.querySelector('[data-testid=stStatusWidgetRunningIcon]') && "
           "!document.querySelector('[data-stale=true]')")
FRESH_PRIMARY = ('[data-testid="stElementContainer"]:not([data-stale="true"]) '
                 '[data-testid="stBaseButton-primary"]')


class BrowserAnnotate:
    """A real `triage app` (from source tree `tree`) on a copy of `db`, and a Chromium page on
    its Annotate page, ready for keys."""

    def __init__(self, browser, tree: Path, db: Path, workdir: Path, user: str) -> None:
        self.db = workdir / "db.duckdb"
        shutil.copy(db, self.db)
        port = free_port()
        env = dict(os.environ, TRIAGE_USER=user, TRIAGE_LOG=str(workdir / "triage.log"))
        # `python -m` in `tree` runs that tree's code (the cwd comes first on sys.path).
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core.cli.main", "--db", str(self.db), "app", "--port",
             str(port)], cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_healthy(self.proc, f"http://127.0.0.1:{port}", timeout=180)
        self.page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        self.page.goto(f"http://127.0.0.1:{port}/annotate")
        self.page.get_by_role("button", name="Save & next").wait_for(timeout=180_000)
        self.page.wait_for_function(SETTLED)
        self.page.mouse.click(5, 500)  # the focus on the page, out of any field
        self.saved = 0

    def choose(self) -> float:
        """ms from the category key to the page redrawn with it chosen (a rerun, no save)."""
        t0 = time.perf_counter()
        self.page.keyboard.press("6")
        self.page.locator(FRESH_PRIMARY, has_text="Tone").first.wait_for()
        self.page.wait_for_function(SETTLED)
        return (time.perf_counter() - t0) * 1000

    def save(self) -> float:
        """ms from S to the next transcript drawn and the run over."""
        t0 = time.perf_counter()
        self.page.keyboard.press("s")
        self.saved += 1
        self.page.get_by_text(f"you labeled {self.saved} today").wait_for(timeout=60_000)
        self.page.wait_for_function(SETTLED)
        return (time.perf_counter() - t0) * 1000

    def close(self) -> int:
        """Stop the server; the labels it stored (read from its file once it is gone)."""
        self.page.context.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)
        db = connect(self.db)
        try:
            return db.con.execute("SELECT count(*) FROM annotations WHERE kind = 'label' AND "
                                  "annotator = 'chromium'").fetchone()[0]
        finally:
            db.close()


# The floor: Streamlit's own rerun in the same browser, an app of one button and one line.
EMPTY_APP = """import streamlit as st

st.session_state.runs = st.session_state.get("runs", 0) + 1
st.button("Again")
st.write(f"runs: {st.session_state.runs}")
"""


class BrowserEmpty:
    """EMPTY_APP served by `streamlit run` the way triage app serves its script."""

    def __init__(self, browser, workdir: Path) -> None:
        from core.cli.app_cmd import streamlit_command

        script = workdir / "empty_app.py"
        script.write_text(EMPTY_APP)
        port = free_port()
        self.proc = subprocess.Popen(streamlit_command(script, port, []), cwd=ROOT,
                                     env=dict(os.environ, TRIAGE_DB=str(workdir / "e.duckdb")),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_healthy(self.proc, f"http://127.0.0.1:{port}", timeout=180)
        self.page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        self.page.goto(f"http://127.0.0.1:{port}/")
        self.page.get_by_text("runs: 1").wait_for(timeout=180_000)
        self.runs = 1

    def rerun(self) -> float:
        """ms from a click on the button to the rerun drawn and over."""
        t0 = time.perf_counter()
        self.page.get_by_role("button", name="Again").click()
        self.runs += 1
        self.page.get_by_text(f"runs: {self.runs}").wait_for(timeout=60_000)
        self.page.wait_for_function(SETTLED)
        return (time.perf_counter() - t0) * 1000

    def close(self) -> None:
        self.page.context.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


def time_browser(db: Path, saves: int, trees: list[tuple[str, Path]]) -> None:
    """Save → next and the no-save rerun in Chromium, per tree; the trees take turns."""
    from playwright.sync_api import sync_playwright

    results = {name: ([], []) for name, _ in trees}
    with tempfile.TemporaryDirectory() as d, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        apps = {}
        for name, tree in trees:
            (Path(d) / str(len(apps))).mkdir()
            apps[name] = BrowserAnnotate(browser, tree, db, Path(d) / str(len(apps)), "chromium")
        (Path(d) / "empty").mkdir()
        empty, floor = BrowserEmpty(browser, Path(d) / "empty"), []
        for _ in range(saves):
            floor.append(empty.rerun())
            for name, app in apps.items():
                results[name][0].append(app.choose())
                results[name][1].append(app.save())
        empty.close()
        for name, app in apps.items():
            stored = app.close()
            print(f"{name}: {stored} labels stored for {app.saved} saves")
        browser.close()
    print(f"load average now: {os.getloadavg()[0]:.1f}")
    summary("Chromium floor: rerun of a one-button app", floor)
    for name, (rerun, save) in results.items():
        summary(f"Chromium {name}: rerun, no save (category key)", rerun)
        summary(f"Chromium {name}: save → next (S)", save)
        med, base = statistics.median(save), statistics.median(rerun)
        print(f"  save → next / rerun: median {med / base:.2f}×, p95 {p95(save) / p95(rerun):.2f}×; "
              f"/ the floor: median {med / statistics.median(floor):.2f}×; "
              f"goals: median {med:.0f} ms (≤ 120) {'met' if med <= 120 else 'MISSED'}, "
              f"p95 {p95(save):.0f} ms (≤ 300) {'met' if p95(save) <= 300 else 'MISSED'}")


def big_transcript_db(path: Path) -> None:
    db = connect(path)
    register_taxonomy(db, load_taxonomy("default"))
    rec = big_record()
    add_transcripts(db, [rec], source="big")
    size = len(json.dumps(rec))
    print(f"big transcript: {len(rec['messages'])} messages, {size / 1e6:.2f} MB")
    db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small-n", type=int, default=500)
    ap.add_argument("--big-n", type=int, default=100_000)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--reruns", type=int, default=20)
    ap.add_argument("--saves", type=int, default=50)
    ap.add_argument("--labels", type=int, default=300,
                    help="labels in the Chromium database (past 1,000: made in bulk by SQL)")
    ap.add_argument("--browser-only", action="store_true", help="only the Chromium figures")
    ap.add_argument("--before", type=Path, help="another Triage source tree to measure too")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(a shared machine inflates every figure)")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"browser_{args.big_n}.duckdb"
        t0 = time.perf_counter()
        build_db(path, args.big_n, args.labels)
        print(f"\n== Chromium, {args.big_n:,} transcripts (built in "
              f"{time.perf_counter() - t0:.1f} s, {args.labels:,} labels, every other "
              "pre-labeled)")
        trees = [("after" if args.before else "this tree", ROOT)] + ([("before", args.before.resolve())] if args.before else [])
        time_browser(path, args.saves, trees)
        if args.browser_only:
            return
        results = {}
        for n in (args.small_n, args.big_n):
            path = Path(d) / f"bench_{n}.duckdb"
            t0 = time.perf_counter()
            build_db(path, n)
            print(f"\n== {n:,} transcripts (built in {time.perf_counter() - t0:.1f} s, 300 labels)")
            core = summary("core: save label + load next", time_core(path, args.iterations))
            summary("core: session choose + save & next", time_session(path, args.iterations))
            rerun = summary("AppTest: rerun of the Annotate page", time_reruns(path, args.reruns, False))
            save = summary("AppTest: choose + save & next (2 runs)",
                           time_reruns(path, args.reruns, True))
            results[n] = (core, rerun, save)
        small, big = results[args.small_n], results[args.big_n]
        print(f"\nratio {args.big_n:,} / {args.small_n:,}: core {big[0] / small[0]:.2f}x, "
              f"rerun {big[1] / small[1]:.2f}x, choose+save {big[2] / small[2]:.2f}x")
        print(f"load average now: {os.getloadavg()[0]:.1f}")
        print(f"goals at {args.big_n:,}: core {big[0]:.1f} ms (goal ≤ 20), rerun {big[1]:.1f} ms "
              f"(goal ≤ 300)")
        path = Path(d) / "big.duckdb"
        big_transcript_db(path)
        summary("AppTest: rerun with the 1 MB transcript", time_reruns(path, args.reruns, False))
        close_open_databases()


if __name__ == "__main__":
    main()
