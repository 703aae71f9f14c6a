"""Import benchmark: a generated 100k-transcript JSONL (~2 KB each) imported with full
validation, beside the floor measured in the same run on the same file:
`CREATE TABLE t AS SELECT * FROM read_json_auto(path)`.

Run: .venv/bin/python benchmarks/import_bench.py [--rows 100000] [--keep DIR]
Each measurement runs in a fresh child process; the parent reads that child's own peak RSS
from the kernel (os.wait4's rusage), so interpreter start and imports count for both alike.
Goals (issue 16.3): time <= 1.5x the floor's, peak RSS <= 1.1x the floor's.
On a shared machine wall time moves with the load; CPU seconds barely do, so both are shown."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["refund", "order", "account", "password", "invoice", "shipping", "delay", "broken", "charge", "plan", "upgrade", "cancel", "login", "email", "address", "policy", "warranty", "return", "label", "tracking", "receipt"]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def make_record(i: int, rng: random.Random) -> dict:
    """One ~2 KB transcript: system, user, a tool call and its result, assistant answers."""
    call_id = f"call_{i}"
    return {
        "id": f"bench-{i}",
        "messages": [
            {"role": "system", "content": "You are a support assistant. " + _sentence(rng, 22)},
            {"role": "user", "content": _sentence(rng, 30)},
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": call_id, "type": "function",
                "function": {"name": "lookup_order", "arguments": json.dumps({"order": i})}}]},
            {"role": "tool", "tool_call_id": call_id, "content": _sentence(rng, 45)},
            {"role": "assistant", "content": _sentence(rng, 50)},
            {"role": "user", "content": _sentence(rng, 12)},
            {"role": "assistant", "content": _sentence(rng, 30)},
        ],
        "metadata": {"channel": rng.choice(["web", "email", "chat"]), "model": "gpt-4o-mini",
                     "tier": rng.choice(["free", "pro", "enterprise"])},
        "context": [{"source": f"kb/{rng.randint(1, 500)}", "text": _sentence(rng, 22)}],
    }


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """Write `rows` records as JSONL."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(rows):
            f.write(json.dumps(make_record(i, rng)) + "\n")


def _floor(path: str, db: str) -> None:
    import duckdb

    con = duckdb.connect(db)
    con.execute("CREATE TABLE t AS SELECT * FROM read_json_auto(?)", [path])
    con.close()


def _import(path: str, db: str) -> None:
    sys.path.insert(0, str(ROOT))
    from core.ingest.pipeline import import_file
    from core.store.connection import connect

    result = import_file(connect(db), Path(path), source="bench", imported_by="bench")
    assert result.rows_imported > 0 and result.rows_rejected == 0, result


def _cpu() -> float:
    """CPU seconds of this process (all its threads): unlike wall time, barely moved by other
    load on a shared machine."""
    t = os.times()
    return t.user + t.system


def _child(kind: str, path: str, db: str) -> None:
    start, cpu_start = time.perf_counter(), _cpu()
    {"floor": _floor, "import": _import}[kind](path, db)
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu_start
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu}))


def measure(kind: str, path: Path, db: Path) -> dict:
    """Run one measurement in a fresh interpreter; returns seconds, CPU seconds and the
    child's peak RSS as the kernel measured it."""
    child = subprocess.Popen([sys.executable, __file__, "--child", kind, str(path), str(db)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{kind} failed (exit {child.returncode})")
    return {**json.loads(out.strip().splitlines()[-1]), "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="work in this folder instead of a temp one")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="import_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "bench.jsonl"
    if not data.exists() or sum(1 for _ in data.open()) != args.rows:
        generate(data, args.rows)
    size_mb = data.stat().st_size / 1e6
    for f in work.glob("*.duckdb*"):
        shutil.rmtree(f) if f.is_dir() else f.unlink()
    floor = measure("floor", data, work / "floor.duckdb")
    ours = measure("import", data, work / "import.duckdb")
    print(f"file: {args.rows:,} transcripts, {size_mb:.0f} MB ({size_mb * 1e3 / args.rows:.2f} KB "
          f"each); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for name, m in (("floor read_json_auto", floor), ("triage import", ours)):
        print(f"{name:22} {m['seconds']:6.2f} s {m['seconds'] / floor['seconds']:5.2f}x floor | "
              f"CPU {m['cpu_seconds']:6.2f} s {m['cpu_seconds'] / floor['cpu_seconds']:5.2f}x "
              f"floor | peak RSS {m['peak_rss_mb']:5.0f} MB "
              f"{m['peak_rss_mb'] / floor['peak_rss_mb']:5.2f}x floor")
    print("goal: time <= 1.50x floor, peak RSS <= 1.10x floor")

if __name__ == "__main__":
    main()
