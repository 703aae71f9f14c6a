"""Cold start: process spawn → the first page drawn in headless Chromium (Home: its h1;
Annotate, which has no h1: its "Save & next" button, i.e. the page usable), on a
database of 100k transcripts (100k + 20k labels, bulk-made by benchmarks/report_bench.py's
SQL), for `triage app` opening Home and a deep link to Annotate, beside an empty
`streamlit hello`-style app (one st.title) started the same way, in the same run.

Run: python benchmarks/coldstart_bench.py [--rows 100000] [--repeat 2] [--db PATH] [--before DIR]
(--db reuses a database made earlier; it is made and kept at PATH when missing. --before DIR
also measures the Triage source tree in DIR, e.g. `git archive main | tar -x -C DIR`, in the
same run: before and after on the same machine.)
Goal (issue 16): under 3 s to the first page drawn."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser_helpers import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from core.cli.app_cmd import streamlit_command  # noqa: E402

EMPTY_APP = 'import streamlit as st\n\nst.title("Hello")\n'


def make_database(path: Path, rows: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from report_bench import make_db

    db, _ = make_db(path.parent, rows)
    db.close()
    (path.parent / f"bench_{rows}.duckdb").rename(path)


def first_heading(page, cmd: list[str], env: dict[str, str], url: str, heading: str | None,
                  cwd: Path, timeout: float = 240) -> float:
    """Seconds from spawning `cmd` (in `cwd`) to an h1 reading `heading` at `url` (None:
    Annotate's "Save & next" button); inf when it never showed within `timeout`."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=cwd)
    try:
        deadline = start + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited with {proc.returncode}")
            try:
                page.goto(url, timeout=5000)
                break
            except Exception:  # noqa: BLE001 - not listening yet
                if time.perf_counter() > deadline:
                    raise
                time.sleep(0.05)
        target = (page.locator("h1", has_text=heading) if heading is not None else
                  page.get_by_role("button", name="Save & next"))
        try:
            target.first.wait_for(timeout=max(1.0, deadline - time.perf_counter()) * 1000)
        except Exception:  # noqa: BLE001 - a timeout is a figure too
            return float("inf")
        return time.perf_counter() - start
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--before", type=Path, help="another Triage source tree to measure too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.db or Path(tmp) / "cold.duckdb"
        if not db_path.exists():
            t = time.perf_counter()
            make_database(db_path, args.rows)
            print(f"made {db_path} ({args.rows:,} transcripts) in {time.perf_counter() - t:.1f} s")
        empty = Path(tmp) / "empty_app.py"
        empty.write_text(EMPTY_APP)
        env = dict(os.environ, TRIAGE_DB=str(db_path.resolve()), TRIAGE_USER="bench",
                   TRIAGE_LOG=str(Path(tmp) / "triage.log"))
        triage = [sys.executable, "-m", "core.cli.main", "--db", str(db_path), "app"]
        # `python -m core.cli.main` in a tree runs that tree's code (the cwd comes first on
        # sys.path), and its triage_app.py.
        trees = [("", ROOT)] + ([("before: ", args.before.resolve())] if args.before else [])
        cases = [("empty streamlit app", lambda p: streamlit_command(empty, p, []), "", "Hello",
                  ROOT)]
        for label, tree in trees:
            cases += [
                (f"{label}triage app → Home", lambda p: [*triage, "--port", str(p)], "",
                 "Triage", tree),
                (f"{label}triage app → Annotate", lambda p: [*triage, "--port", str(p)],
                 "annotate", None, tree),
            ]
        results: dict[str, list[float]] = {name: [] for name, *_ in cases}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(args.repeat):
                for name, command, path, heading, tree in cases:
                    port = free_port()
                    page = browser.new_page()
                    try:
                        seconds = first_heading(page, command(port), env,
                                                f"http://localhost:{port}/{path}", heading,
                                                tree)
                    finally:
                        page.close()
                    results[name].append(seconds)
                    print(f"  {name}: {seconds:.2f} s", flush=True)
            browser.close()
    base = min(results["empty streamlit app"])
    for name, times in results.items():
        best = min(times)
        print(f"{name:<24} {best:6.2f} s (best of {len(times)}: "
              f"{', '.join(f'{t:.2f}' for t in times)})  = {best / base:.2f}× the empty app"
              + ("" if name.startswith("empty") else
                 f"  goal < 3 s: {'met' if best < 3 else 'MISSED'}"))
    for name in ("triage app → Home", "triage app → Annotate"):
        if f"before: {name}" in results:
            old, new = min(results[f"before: {name}"]), min(results[name])
            print(f"{name}: before {old:.2f} s → after {new:.2f} s ({new / old:.2f}×)")


if __name__ == "__main__":
    main()
