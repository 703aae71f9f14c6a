"""Where the cold-start seconds go: cProfile of one fresh process's first run of a page
(Triage's imports included; Streamlit's own import is not, the empty app pays it too) through
Streamlit's AppTest, on a database made by coldstart_bench.py. AppTest runs the script in a
thread of its own, so the profiler is switched on inside the script (a wrapper file).

Run: python benchmarks/coldstart_profile.py DB [triage_app.py|pages/annotate.py|pages/report.py]
     [--top 25]
Prints the wall time of the first run and the profile's top lines by cumulative time."""

from __future__ import annotations

import argparse
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRAPPER = """
import cProfile, os, runpy, sys
sys.path.insert(0, {root!r})
os.chdir({root!r})
_profile = cProfile.Profile()
_profile.enable()
try:
    runpy.run_path({page!r}, run_name="__main__")
finally:
    _profile.disable()
    _profile.dump_stats({stats!r})
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("page", nargs="?", default="triage_app.py")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    os.environ["TRIAGE_DB"] = str(args.db.resolve())
    os.environ["TRIAGE_USER"] = "bench"
    os.environ.setdefault("TRIAGE_LOG", str(args.db.parent / "triage.log"))
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        # Beside the page: Streamlit resolves st.Page paths from the main script's folder.
        stats, wrapper = Path(tmp) / "page.prof", (ROOT / args.page).parent / "_profiled_page.py"
        wrapper.write_text(WRAPPER.format(root=str(ROOT), page=str(ROOT / args.page),
                                          stats=str(stats)))
        try:
            at = AppTest.from_file(str(wrapper), default_timeout=120)
            start = time.perf_counter()
            at.run()
            elapsed = time.perf_counter() - start
        finally:
            wrapper.unlink()
        if at.exception:
            print("page raised:", [e.value for e in at.exception])
        heads = [t.value for t in at.title][:1]
        print(f"first run of {args.page} (Triage's imports included): {elapsed:.2f} s; "
              f"title {heads}")
        out = io.StringIO()
        pstats.Stats(str(stats), stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
