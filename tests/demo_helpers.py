"""Helpers for the demo tests: a database file with the demo loaded."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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


# `triage` without installing the package: the console script's entry point, run from the root.
TRIAGE = [sys.executable, "-c", "from core.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "OPENAI_"))}


def wait_until_healthy(proc: subprocess.Popen, port: int, seconds: float = 60) -> None:
    """Poll Streamlit's health endpoint with short requests until it answers 'ok'."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"triage app exited early with {proc.returncode}: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no healthy server on port {port} after {seconds} s")
