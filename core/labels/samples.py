"""Drawing a reproducible sample of imported transcripts: random or stratified (proportional
allocation, largest remainder), optionally filtered by metadata or source. The same seed on
the same transcripts gives the same sample, in the same order."""

from __future__ import annotations

import random
import re
import uuid
from collections import defaultdict

from core.errors import NotFound, UsageError
from core.store.connection import Database, utcnow
from core.store.samples import Sample, candidates, get_sample, list_samples, save_sample

__all__ = ["Sample", "draw_sample", "list_samples", "get_sample", "allocate", "parse_where"]
_FIELD = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _check_field(field: str) -> str:
    if not _FIELD.match(field):
        raise UsageError(f"field {field!r}: use a metadata key or `source` (letters, digits, _ . -)")
    return field


def parse_where(pairs: list[str] | None) -> dict[str, list[str]]:
    """['channel=web', 'channel=email', 'tier=pro'] → {'channel': ['web', 'email'], 'tier': ['pro']}
    (values of one field are alternatives; fields must all match)."""
    where: dict[str, list[str]] = defaultdict(list)
    for pair in pairs or []:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise UsageError(f"--where {pair!r}: expected FIELD=VALUE, e.g. channel=web")
        where[_check_field(field.strip())].append(value.strip())
    return dict(where)


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of n over strata with the largest-remainder method
    (ties broken by stratum name, so it is deterministic)."""
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    quotas = {k: n * size / total for k, size in sizes.items()}
    alloc = {k: int(q) for k, q in quotas.items()}
    rest = n - sum(alloc.values())
    by_remainder = sorted(sizes, key=lambda k: (-(quotas[k] - alloc[k]), str(k)))
    for k in by_remainder[:rest]:
        alloc[k] += 1
    return alloc


def _order(ids_and_strata: list[tuple[str, str | None]], n: int, seed: int,
           stratify: bool) -> list[str]:
    shuffled = list(ids_and_strata)
    random.Random(seed).shuffle(shuffled)
    if not stratify:
        return [i for i, _ in shuffled[:n]]
    sizes: dict[str, int] = defaultdict(int)
    for _, s in shuffled:
        sizes[str(s)] += 1
    quota = allocate(dict(sizes), n)
    chosen = []
    for tid, s in shuffled:  # the seeded order, taking each stratum's first `quota` items
        if quota[str(s)] > 0:
            quota[str(s)] -= 1
            chosen.append(tid)
    return chosen


def draw_sample(db: Database, n: int, seed: int, stratify_by: str | None = None,
                where: dict[str, list[str]] | None = None, created_by: str | None = None) -> Sample:
    """Draw and record a sample of active transcripts; returns it with its ordered ids.
    Asking for more than there are takes them all."""
    if n < 1:
        raise UsageError(f"--n must be at least 1, got {n}")
    where = {_check_field(k): v for k, v in (where or {}).items()}
    if stratify_by:
        _check_field(stratify_by)
    pool = candidates(db, where, stratify_by)
    if not pool:
        if where:
            shown = " and ".join(f"{k} in {v}" for k, v in where.items())
            raise NotFound(f"no active transcript has {shown}; check the field and values")
        raise NotFound("no active transcripts to sample from; import some first")
    if stratify_by and all(stratum is None for _, stratum in pool):
        raise UsageError(f"--stratify-by {stratify_by}: no transcript has this field (a metadata "
                         "key or `source`); check its spelling")
    ids = _order(pool, n, seed, stratify_by is not None)
    sample = Sample(
        sample_id=f"s{utcnow():%Y%m%d}-{uuid.uuid4().hex[:6]}",
        method="stratified" if stratify_by else "random", seed=seed, n=len(ids),
        filter=where or None, stratify_by=stratify_by, created_by=created_by,
        created_at=utcnow(), transcript_ids=tuple(ids))
    save_sample(db, sample)
    return sample
