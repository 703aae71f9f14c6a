"""canonical_json must write exactly what json.dumps(sort_keys, compact, ensure_ascii=False)
writes: every stored content hash depends on it. orjson takes plain values; the rest falls back."""

from __future__ import annotations

import json
import random
from datetime import date, datetime
from decimal import Decimal

import pytest

from core.ingest.records import canonical_json


def reference(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=lambda v: v.isoformat() if hasattr(v, "isoformat") else float(v))


def _text(rng: random.Random) -> str:
    pools = [(0, 0x80), (0x80, 0x800), (0x800, 0xD800), (0xE000, 0x10000), (0x10000, 0x110000)]
    out = []
    for _ in range(rng.randint(0, 12)):
        lo, hi = rng.choice(pools)
        out.append(chr(rng.randrange(lo, hi)))
    return "".join(out)


def _value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(10 if depth < 4 else 7)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**63 - 1, -(2**63), 2**64, 10**30, rng.randrange(-10**6, 10**6)])
    if kind == 2:
        return rng.choice([0.1, -0.0, 1e16, 1e-05, 1.5e-07, 123456789.125, rng.uniform(-1e9, 1e9),
                           float("nan"), float("inf")])
    if kind in (3, 4, 5, 6):
        return _text(rng)
    if kind in (7, 8):
        return {_text(rng): _value(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return [_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def test_random_values_match_json_dumps_byte_for_byte():
    rng = random.Random(20261124)
    for _ in range(5000):
        v = _value(rng)
        assert canonical_json(v) == reference(v), v


@pytest.mark.parametrize("value", [
    {"b": 1, "a": [1, 2.5, None], "é": "\u2028\x7f\x1f\"\\"},
    {"when": datetime(2026, 1, 2, 3, 4, 5, 6), "day": date(2026, 1, 2), "price": Decimal("9.95")},
    {"big": 2**70, "tiny": 5e-324, "neg": -(2**64)},
    [True, False, None, "", [], {}],
])
def test_edge_values_match_json_dumps(value):
    assert canonical_json(value) == reference(value)


def test_lone_surrogates_and_odd_keys_behave_as_json_dumps():
    # A lone surrogate is written as json.dumps writes it (the importer then rejects the row
    # when it encodes the text); non-string keys are converted as json.dumps converts them.
    assert canonical_json({"t": "\ud800"}) == reference({"t": "\ud800"})
    assert canonical_json({1: "a", 2: "b"}) == reference({1: "a", 2: "b"})
