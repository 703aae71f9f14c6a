"""How long loading the bundled demo takes, beside the floor measured in the same run:
DuckDB reading the same two JSONL files straight into tables.

    python benchmarks/demo.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from core.demo import load_demo  # noqa: E402
from core.demo.load import ANNOTATIONS_PATH, TRANSCRIPTS_PATH  # noqa: E402
from core.store.connection import connect  # noqa: E402
from core.taxonomy import load_taxonomy  # noqa: E402


def floor(path: Path) -> float:
    con = duckdb.connect(str(path))
    start = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_json_auto('{TRANSCRIPTS_PATH}')")
    con.execute(f"CREATE TABLE a AS SELECT * FROM read_json_auto('{ANNOTATIONS_PATH}')")
    con.close()
    return time.perf_counter() - start


def demo(path: Path) -> float:
    db = connect(path)  # migrations are not part of the measurement
    taxonomy = load_taxonomy("default")
    start = time.perf_counter()
    load_demo(db, taxonomy)
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def main(repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        demo(Path(tmp) / "warmup.duckdb")  # imports (pyarrow) and caches outside the figures
        floors = [floor(Path(tmp) / f"floor{i}.duckdb") for i in range(repeats)]
        loads = [demo(Path(tmp) / f"demo{i}.duckdb") for i in range(repeats)]
    f, d = min(floors), min(loads)
    print(f"floor (read_json_auto of both files): {f * 1000:.0f} ms")
    print(f"load_demo (300 transcripts, 290 annotations, validated): {d * 1000:.0f} ms "
          f"= {d / f:.1f}x the floor")


if __name__ == "__main__":
    main()
