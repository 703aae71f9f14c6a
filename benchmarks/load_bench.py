"""Load benchmark (issue 15 §8): ten reviewers labeling at once in ten Chromium contexts for two
minutes against a real `triage app` on a seeded database; the server is killed with SIGKILL once
in the middle and restarted on the same port. Asserts that every label a reviewer saw as "Saved"
is in the database and none is stored twice; prints labels/minute and p95 save latency, beside
one reviewer alone against the same server in the same run (the baseline).

    .venv/bin/python benchmarks/load_bench.py [--reviewers 10] [--seconds 120] [--solo-seconds 30]

The save latency is what a reviewer waits: from pressing `s` to the page's "Saved: <id> → …".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.annotate_helpers import seeded_db  # noqa: E402
from tests.browser_helpers import free_port  # noqa: E402
from tests.load_helpers import AppServer, Reviewer, check_saved, p95, run_reviewers  # noqa: E402


def figures(reviewers: list[Reviewer], seconds: float) -> tuple[int, float, float, float]:
    """(labels saved, labels per minute, median and p95 save latency in seconds)."""
    lat = [x for r in reviewers for x in r.latencies]
    n = sum(len(r.saved) for r in reviewers)
    return n, n * 60 / seconds, statistics.median(lat) if lat else float("nan"), p95(lat)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reviewers", type=int, default=10)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--solo-seconds", type=float, default=30)
    p.add_argument("--transcripts", type=int, default=1500)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="triage-load-"))
    began = time.monotonic()
    path = seeded_db(tmp / "load.duckdb", n=args.transcripts, hostile=False)
    print(f"seeded {args.transcripts} transcripts in {time.monotonic() - began:.1f} s")
    server = AppServer(path, free_port())
    server.start()
    try:
        solo, _ = run_reviewers(server, ["solo"], args.solo_seconds)
        names = [f"rev{i:02d}" for i in range(args.reviewers)]
        team, restart_s = run_reviewers(server, names, args.seconds, kill_at=args.seconds / 2)
    finally:
        server.stop()
    n_stored, missing, twice = check_saved(path, solo + team)
    s_n, s_rate, s_med, s_p95 = figures(solo, args.solo_seconds)
    t_n, t_rate, t_med, t_p95 = figures(team, args.seconds)
    print(f"one reviewer alone, {args.solo_seconds:g} s: {s_n} labels saved, "
          f"{s_rate:.1f} labels/min, save latency median {s_med:.2f} s, p95 {s_p95:.2f} s")
    print(f"{args.reviewers} reviewers at once, {args.seconds:g} s, SIGKILL at "
          f"{args.seconds / 2:g} s (restart took {restart_s:.1f} s): {t_n} labels saved, "
          f"{t_rate:.1f} labels/min, save latency median {t_med:.2f} s, p95 {t_p95:.2f} s")
    print("  per reviewer: " + ", ".join(f"{r.name} {len(r.saved)} saved / "
                                         f"{r.interruptions} interrupted" for r in team))
    print(f"ratio {args.reviewers} reviewers vs one: labels/min x{t_rate / max(s_rate, 1e-9):.2f}"
          f" (per reviewer x{t_rate / args.reviewers / max(s_rate, 1e-9):.2f}), "
          f"p95 save latency x{t_p95 / s_p95:.2f}")
    print(f"database: {n_stored} labels stored for these reviewers; Saved but missing: "
          f"{len(missing)}; stored twice: {len(twice)}")
    assert missing == [], f"labels shown as Saved but not in the database: {missing}"
    assert twice == [], f"labels stored twice: {twice}"
    assert t_n > 0 and s_n > 0, "no label was saved: nothing was measured"
    print("check passed: every label a reviewer saw as Saved is in the database, none twice")


if __name__ == "__main__":
    main()
