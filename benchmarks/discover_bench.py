"""Discovery at scale, offline: 10k synthetic notes grouped (TF-IDF → SVD → HDBSCAN), with and
without the saturation curve: seconds and peak memory, each in a fresh child process, against
vectorising alone (the floor) at the same size and the whole run at 1k (the scaling ratio);
NMI against the modes the notes were written from; and, when ../shared/data is present, NMI
and AMI against the public Who&When notes' (low-trust, keyword-mapped) categories.

Run: python benchmarks/discover_bench.py [--n 10000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PUBLIC = ROOT.parent / "shared" / "data" / "whowhen_failure_notes.csv"


def child(n: int, mode: str) -> dict:
    """One measurement in this process (called as the child): time, peak RSS, NMI."""
    from sklearn.metrics import normalized_mutual_info_score

    from benchmarks.discover_notes import synthetic_notes
    from core.discover.notes import Note
    from core.discover.run import DiscoverOptions, discover
    from core.discover.vectors import reduce, reduced_dims, term_space

    rows = synthetic_notes(n)
    notes = [Note(i, t, label=m) for i, t, m in rows]
    started = time.perf_counter()
    if mode == "vectors":
        reduce(term_space([x.text for x in notes]).matrix, 0, reduced_dims(n))
        out: dict = {}
    else:
        d = discover(notes, DiscoverOptions(saturation_steps=10 if mode == "saturation" else 0))
        where = {m: i for i, c in enumerate(d.clusters) for m in c.member_ids}
        got = [where.get(x.note_id, -1) for x in notes]
        out = {"clusters": len(d.clusters), "outlier_share": d.method["outlier_share"],
               "nmi": normalized_mutual_info_score([x.label for x in notes], got)}
    out["seconds"] = time.perf_counter() - started
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def measure(n: int, mode: str) -> dict:
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); "
            f"from benchmarks.discover_bench import child; print(json.dumps(child({n}, {mode!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def public_agreement() -> str:
    from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score

    from core.discover.notes import read_notes_file
    from core.discover.run import DiscoverOptions, discover

    notes = read_notes_file(PUBLIC).notes
    truth = [x.label for x in notes]
    lines = []
    for seed in (0, 1, 2):
        d = discover(notes, DiscoverOptions(seed=seed, saturation_steps=0))
        where = {m: i for i, c in enumerate(d.clusters) for m in c.member_ids}
        got = [where.get(x.note_id, -1) for x in notes]
        lines.append(f"  seed {seed}: {len(d.clusters)} clusters, {len(d.outliers)} outliers, "
                     f"NMI {normalized_mutual_info_score(truth, got):.3f}, "
                     f"AMI {adjusted_mutual_info_score(truth, got):.3f}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000)
    args = p.parse_args()
    floor = measure(args.n, "vectors")
    small = measure(1000, "cluster")
    big = measure(args.n, "cluster")
    sat = measure(args.n, "saturation")
    print(f"vectorising alone, {args.n} notes:  {floor['seconds']:.2f} s, peak {floor['peak_mb']:.0f} MB")
    print(f"discover, 1,000 notes:            {small['seconds']:.2f} s, peak {small['peak_mb']:.0f} MB, "
          f"{small['clusters']} clusters, NMI {small['nmi']:.3f}")
    for label, r in ((f"discover, {args.n} notes:", big),
                     ("+ saturation (10 steps):", sat)):
        print(f"{label:<34}{r['seconds']:.2f} s ({r['seconds'] / floor['seconds']:.1f}× vectorising, "
              f"{r['seconds'] / small['seconds']:.1f}× the 1k run), peak {r['peak_mb']:.0f} MB, "
              f"{r['clusters']} clusters, {r['outlier_share']:.0%} outliers, NMI vs modes {r['nmi']:.3f}")
    if PUBLIC.exists():
        print("public Who&When notes (184) vs their keyword-mapped categories:")
        print(public_agreement())
    else:
        print(f"public notes absent ({PUBLIC}): NMI on them not measured")


if __name__ == "__main__":
    main()
