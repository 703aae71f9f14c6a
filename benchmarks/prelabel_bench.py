"""Pre-labeler benchmark.

LLM path: the fake OpenAI-compatible server (tests/llm_server.py) in its own process answers
each request after 200 ms; 500 transcripts at concurrency 16. Throughput is reported as a fraction
of the ideal 500 × 0.2 s / 16 = 6.25 s (goal ≥ 0.8); then an immediate re-run must send 0 requests.

Offline path: train + predict on 10k synthetic transcripts (clear-but-noisy signals), in a child
process so peak memory is its own; baseline: the same on 1k, for the scaling ratio.

Run from the repository root: /work/venv/bin/python benchmarks/prelabel_bench.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import Settings  # noqa: E402
from core.prelabel.plan import RunOptions, plan_run  # noqa: E402
from core.prelabel.run import execute_run  # noqa: E402
from core.store.categories import register_taxonomy  # noqa: E402
from core.store.connection import connect  # noqa: E402
from core.taxonomy import load_taxonomy  # noqa: E402
from tests.conftest import add_transcripts, make_record  # noqa: E402

N, CONCURRENCY, DELAY = 500, 16, 0.2


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.llm_server", "--delay", str(DELAY)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def server_requests(base_url: str) -> int:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/stats") as r:
        return json.load(r)["requests"]


def bench_llm() -> None:
    proc, base_url = start_server()
    try:
        with tempfile.TemporaryDirectory() as d:
            taxonomy = load_taxonomy()
            db = connect(Path(d) / "bench.duckdb")
            register_taxonomy(db, taxonomy)
            add_transcripts(db, [make_record(i, f"Question number {i} about my order") for i in range(N)])
            settings = Settings(db_path=Path(d) / "bench.duckdb", llm_base_url=base_url,
                                llm_model="bench-model", llm_timeout=30, llm_max_retries=0)
            options = RunOptions(concurrency=CONCURRENCY)
            t0 = time.perf_counter()
            plan = plan_run(db, settings, taxonomy, options)
            t1 = time.perf_counter()
            summary = execute_run(db, settings, taxonomy, plan, options)
            elapsed = time.perf_counter() - t1
            ideal = N * DELAY / CONCURRENCY
            print(f"LLM: {summary.done} done, {summary.n_failed} failed in {elapsed:.2f} s "
                  f"(planning {t1 - t0:.2f} s); ideal {ideal:.2f} s → throughput "
                  f"{ideal / elapsed:.2f} of ideal (goal ≥ 0.8)")
            before = server_requests(base_url)
            t2 = time.perf_counter()
            again = execute_run(db, settings, taxonomy, plan_run(db, settings, taxonomy, options), options)
            sent = server_requests(base_url) - before
            print(f"LLM re-run: {again.cached} cached, {sent} requests sent (goal 0) in "
                  f"{time.perf_counter() - t2:.2f} s")
            db.close()
    finally:
        proc.terminate()
        proc.wait()


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it is not inherited)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def offline_child(n: int) -> None:
    """Train on n labeled synthetic transcripts and predict all n; print seconds and peak MB."""
    from core.prelabel.offline import train_offline
    from core.store.transcripts import Transcript
    from tests.prelabel_helpers import synthetic_records

    taxonomy = load_taxonomy()
    pairs = synthetic_records(taxonomy, n, noise=0.15, seed=1)
    ts = [(Transcript(r["id"], "bench", r["messages"], r.get("context"), r.get("tools"),
                      r["metadata"], r["id"], None, None, len(r["messages"]), False, 0, False), lab)
          for r, lab in pairs]
    base_mb = peak_mb()
    t0 = time.perf_counter()
    model = train_offline(taxonomy, ts)
    t1 = time.perf_counter()
    preds = model.predict([t for t, _ in ts])
    t2 = time.perf_counter()
    acc = sum(p.label == lab for p, (_, lab) in zip(preds, ts, strict=True)) / n
    peak = peak_mb()
    print(json.dumps({"n": n, "train_s": t1 - t0, "predict_s": t2 - t1, "peak_mb": peak,
                      "base_mb": base_mb, "model": model.version, "in_sample_acc": acc}))


def bench_real() -> None:
    """The 384 real shared transcripts (2–10k tokens each): offline train + predict time with
    placeholder labels (there are no human labels), and planning an LLM run (render, redact,
    count tokens, cut to budget)."""
    import random

    from core.prelabel.offline import train_offline
    from core.store.transcripts import get_transcripts

    data = ROOT.parent / "shared" / "data"
    data = data if data.is_dir() else Path("/work/shared/data")
    if not data.is_dir():
        print("real transcripts: skipped (no shared/data)")
        return
    with tempfile.TemporaryDirectory() as d:
        taxonomy = load_taxonomy()
        db = connect(Path(d) / "real.duckdb")
        register_taxonomy(db, taxonomy)
        for f in sorted(data.glob("*.jsonl")):
            add_transcripts(db, [json.loads(x) for x in f.read_text().splitlines() if x.strip()], f.stem)
        ids = [r[0] for r in db.con.execute("SELECT transcript_id FROM transcripts").fetchall()]
        ts = get_transcripts(db, ids)
        rng = random.Random(0)
        t0 = time.perf_counter()
        model = train_offline(taxonomy, [(t, rng.choice(taxonomy.keys)) for t in ts])
        model.predict(ts)
        t1 = time.perf_counter()
        plan = plan_run(db, Settings(llm_base_url="http://127.0.0.1:9/v1"), taxonomy, RunOptions())
        t2 = time.perf_counter()
        print(f"real transcripts (n={len(ts)}): offline train + predict {t1 - t0:.1f} s; LLM plan "
              f"{t2 - t1:.1f} s, {plan.est_tokens_in:,} input tokens, "
              f"{sum(i.truncated for i in plan.items)} cut to the 12k budget")
        db.close()


def bench_offline() -> None:
    results = {}
    for n in (1000, 10000):
        out = subprocess.run([sys.executable, __file__, "--offline-child", str(n)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        results[n] = json.loads(out.strip().splitlines()[-1])
    for n, r in results.items():
        print(f"offline n={n}: train {r['train_s']:.1f} s + predict {r['predict_s']:.1f} s, peak "
              f"{r['peak_mb']:.0f} MB (before training, with imports and data: {r['base_mb']:.0f} MB), "
              f"{r['model']}")
    small, big = results[1000], results[10000]
    ratio = (big["train_s"] + big["predict_s"]) / (small["train_s"] + small["predict_s"])
    print(f"offline scaling: 10k takes {ratio:.1f}× the time of 1k (linear would be 10×)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--offline-child":
        offline_child(int(sys.argv[2]))
    else:
        if "--offline-only" not in sys.argv:
            bench_llm()
        if "--llm-only" not in sys.argv:
            bench_offline()
            bench_real()
