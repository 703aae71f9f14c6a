"""Grouping items by key (spans by trace, traces by session) in bounded memory.

A trace's spans may sit on many lines far apart in a file of any size. Items are kept in
memory until they pass a budget; then everything spills to bucket files on disk (by a hash of
the key) and each bucket is grouped on its own, so memory holds one bucket at a time."""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

MEMORY_BUDGET = 64 * 1024 * 1024  # bytes of serialised items held before spilling
BUCKETS = 128  # a 1 GB file spills ~5–8 MB of compact items into each
_ITEM_OVERHEAD = 80  # what a list slot and a bytes object cost beyond the bytes themselves


class SpillGrouper:
    """add(key, item) many times, then groups() once: (key, [items]) per key. In memory
    the groups come in first-seen order; after a spill, bucket by bucket (deterministic)."""

    def __init__(self, budget: int = MEMORY_BUDGET, buckets: int = BUCKETS,
                 folder: Path | None = None) -> None:
        self.budget = budget
        self.n_buckets = buckets
        self._folder = folder
        self._memory: dict[str, list[bytes]] = {}
        self._size = 0
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._files: list[Any] = []

    @property
    def spilled(self) -> bool:
        return bool(self._files)

    def add(self, key: str, item: Any) -> None:
        """Keep one JSON-serialisable item (dataclasses included) under `key`."""
        data = orjson.dumps(item)
        if self._files:
            self._write(key, data)
            return
        self._memory.setdefault(key, []).append(data)
        self._size += len(data) + len(key) + _ITEM_OVERHEAD
        if self._size > self.budget:
            self._spill()

    def _spill(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="triage-spill-", dir=self._folder)
        folder = Path(self._tmp.name)
        self._files = [(folder / f"{i:03d}.jsonl").open("wb") for i in range(self.n_buckets)]
        for key, items in self._memory.items():
            for data in items:
                self._write(key, data)
        self._memory, self._size = {}, 0

    def _write(self, key: str, data: bytes) -> None:
        # A JSON string holds no raw tab: the first tab separates key from item.
        bucket = zlib.crc32(key.encode("utf-8")) % self.n_buckets
        self._files[bucket].write(orjson.dumps(key) + b"\t" + data + b"\n")

    def groups(self) -> Iterator[tuple[str, list[Any]]]:
        """Every key with its items, decoded, each key once."""
        if not self._files:
            memory, self._memory = self._memory, {}
            for key, items in memory.items():
                yield key, [orjson.loads(d) for d in items]
            return
        paths = [Path(f.name) for f in self._files]
        for f in self._files:
            f.close()
        for path in paths:
            bucket: dict[str, list[Any]] = {}
            with path.open("rb") as f:
                for line in f:
                    key, _, data = line.rstrip(b"\n").partition(b"\t")
                    bucket.setdefault(orjson.loads(key), []).append(orjson.loads(data))
            path.unlink()
            yield from bucket.items()

    def close(self) -> None:
        """Remove the spill files (also after an error part-way)."""
        for f in self._files:
            f.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
