"""Helpers for import, sample and lock tests: run the real CLI in-process, write files."""

from __future__ import annotations

import json
from pathlib import Path

from core.cli.main import run


def cli(capsys, db_path: Path, *args: str) -> tuple[int, str, str]:
    """Run `triage --db db_path ARGS` in-process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = run(["--db", str(db_path), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def write_jsonl(path: Path, records: list) -> Path:
    """One JSON value per line."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def count(db_path: Path, sql: str = "SELECT count(*) FROM transcripts") -> int:
    """A count from a fresh read-only connection (what is really on disk)."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()
