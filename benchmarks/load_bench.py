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
import os
import statistics
import sys
import tempfile
import threading
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


TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid → (process group, command name, CPU seconds so far) of every live process."""
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()  # after the name: state, ppid, pgrp, …, utime (12th), stime
        out[int(pid)] = (int(fields[2]), head.split("(", 1)[1],
                         (int(fields[11]) + int(fields[12])) / TICK)
    return out


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:8]]
    return (sum(v) - v[3] - v[4]) / TICK


class CpuMeter:
    """Where the CPU went during a phase: the app server's process group, the Chromium
    processes, and the whole machine. Processes are sampled each 0.5 s and each one's CPU
    counted from its first sample (a process that ends loses at most its last half second)."""

    def __init__(self, server) -> None:
        self.server, self._stop = server, threading.Event()
        self._seen: dict[int, tuple[str, float, float]] = {}  # pid → (kind, first, last)

    def __enter__(self):
        self.wall, self.busy = time.monotonic(), _machine_busy()
        self._take()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _take(self) -> None:
        proc = self.server.proc
        server_group = proc.pid if proc is not None and proc.poll() is None else None
        for pid, (group, name, cpu) in _processes().items():
            kind = ("server" if group == server_group else
                    "chromium" if "chrom" in name.lower() else "other")
            first = self._seen.get(pid, (kind, cpu, cpu))[1]
            self._seen[pid] = (kind, first, cpu)

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self._take()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._take()
        self.wall, self.busy = time.monotonic() - self.wall, _machine_busy() - self.busy

    def seconds(self, kind: str) -> float:
        return sum(last - first for k, first, last in self._seen.values() if k == kind)

    def line(self, what: str) -> str:
        server, browser = self.seconds("server"), self.seconds("chromium")
        return (f"  CPU, {what}, {self.wall:.0f} s: app server {server / self.wall:.2f} cores "
                f"(one Python interpreter holds at most ~1), Chromium {browser / self.wall:.2f}, "
                f"whole machine busy {self.busy / self.wall:.2f} of {os.cpu_count()} cores")


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
        with CpuMeter(server) as solo_cpu:
            solo, _ = run_reviewers(server, ["solo"], args.solo_seconds)
        names = [f"rev{i:02d}" for i in range(args.reviewers)]
        with CpuMeter(server) as team_cpu:
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
    print(solo_cpu.line("one reviewer"))
    print(team_cpu.line(f"{args.reviewers} reviewers"))
    print(f"database: {n_stored} labels stored for these reviewers; Saved but missing: "
          f"{len(missing)}; stored twice: {len(twice)}")
    assert missing == [], f"labels shown as Saved but not in the database: {missing}"
    assert twice == [], f"labels stored twice: {twice}"
    assert t_n > 0 and s_n > 0, "no label was saved: nothing was measured"
    print("check passed: every label a reviewer saw as Saved is in the database, none twice")


if __name__ == "__main__":
    main()
