"""Helpers for the demo tests: a database file with the demo loaded."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.demo import DemoSummary, load_demo
from core.store.connection import connect
from core.taxonomy import load_taxonomy


def demo_database(path: Path) -> DemoSummary:
    """Create `path` with the demo loaded, and close it."""
    db = connect(path)
    try:
        return load_demo(db, load_taxonomy("default"))
    finally:
        db.close()


# `triage` without installing the package: the console script's entry point, run from the root.
TRIAGE = [sys.executable, "-c", "from core.cli.main import main; main()"]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "OPENAI_"))}
