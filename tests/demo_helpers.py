"""Helpers for the demo tests: a database file with the demo loaded."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from core.demo import DemoSummary, load_demo
from core.store.connection import connect
from core.taxonomy import load_taxonomy

_loaded: list[tuple[Path, DemoSummary]] = []


def demo_database(path: Path) -> DemoSummary:
    """Create `path` with the demo loaded, and close it. The demo is loaded once per test run
    (it takes seconds: import, labels, the offline pre-labeler's fit) and copied after that:
    a closed DuckDB file is a plain file. tests/test_demo.py loads it for real."""
    if not _loaded:
        folder = Path(tempfile.mkdtemp(prefix="triage-demo-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "demo.duckdb"
        db = connect(template)
        try:
            _loaded.append((template, load_demo(db, load_taxonomy("default"))))
        finally:
            db.close()
    template, summary = _loaded[0]
    shutil.copyfile(template, path)
    return summary


# `triage` without installing the package: the console script's entry point, run from the root.
TRIAGE = [sys.executable, "-c", "from core.cli.main import main; main()"]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "OPENAI_"))}
