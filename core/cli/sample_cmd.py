"""`triage sample`: draw and record a reproducible sample; `--list` shows the samples."""

from __future__ import annotations

import argparse
import json

from core.cli.common import acting_user, add_command, reading_database
from core.config import Settings
from core.errors import UsageError
from core.labels.samples import draw_sample, list_samples, parse_where
from core.store.connection import connect
from core.store.samples import candidates, stratum_counts


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "sample", "Draw a reproducible sample of imported transcripts to label.",
                    "triage sample --n 300 --seed 7 --stratify-by channel --where model=gpt-4o")
    p.add_argument("--n", type=int, metavar="N", help="how many transcripts")
    p.add_argument("--seed", type=int, metavar="S", help="random seed (same seed, same sample)")
    p.add_argument("--stratify-by", metavar="FIELD",
                   help="metadata key or `source`: proportional allocation over its values")
    p.add_argument("--where", action="append", metavar="FIELD=VALUE",
                   help="only transcripts whose metadata key (or source) has this value; "
                        "repeat a field for alternatives")
    p.add_argument("--list", action="store_true", help="list recorded samples instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.list:
        return _list(settings)
    if args.n is None or args.seed is None:
        raise UsageError("triage sample needs --n N and --seed S (or --list)")
    where = parse_where(args.where)
    db = connect(settings.db_path)
    try:
        sample = draw_sample(db, args.n, args.seed, args.stratify_by, where, acting_user(settings))
        pool = len(candidates(db, sample.filter or {}, None))
        matching = " matching the filter" if sample.filter else ""
        print(f"sample {sample.sample_id}: {sample.n:,} of {pool:,} active transcripts{matching}, "
              f"{sample.method} (seed {sample.seed})"
              + (f", filter {json.dumps(sample.filter)}" if sample.filter else ""))
        if sample.n < args.n:
            print(f"note: asked for {args.n:,}, only {sample.n:,} match")
        if sample.stratify_by:
            for value, count in stratum_counts(db, sample.sample_id, sample.stratify_by):
                print(f"  {sample.stratify_by}={value}: {count:,}")
    finally:
        db.close()
    return 0


def _list(settings: Settings) -> int:
    db = reading_database(settings)
    samples = list_samples(db)
    if not samples:
        print("no samples yet: draw one with `triage sample --n 300 --seed 7`")
    for s in samples:
        extra = f" stratified by {s.stratify_by}" if s.stratify_by else ""
        extra += f" filter {json.dumps(s.filter)}" if s.filter else ""
        print(f"{s.sample_id}  {s.created_at:%Y-%m-%d %H:%M}  {s.method:10} n={s.n:<6} "
              f"seed={s.seed}{extra}  by {s.created_by or '-'}")
    db.close()
    return 0
