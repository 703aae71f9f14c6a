"""Helpers for the demo tests: a database file with the demo loaded."""

from __future__ import annotations

from pathlib import Path

from core.db import connect
from core.demo import DemoSummary, load_demo
from core.taxonomy import load_taxonomy


def demo_database(path: Path) -> DemoSummary:
    """Create `path` with the demo loaded, and close it."""
    db = connect(path)
    try:
        return load_demo(db, load_taxonomy("default"))
    finally:
        db.close()
