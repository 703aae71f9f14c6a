"""Three reviewers labeling at once in Chromium against a real `triage app`, the server killed
with SIGKILL in the middle and restarted on its port: every label a reviewer saw as "Saved" is
in the database, none twice (issue 15 §8; the ten-reviewer run is benchmarks/load_bench.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.annotate_helpers import seeded_db
from tests.browser_helpers import free_port
from tests.conftest import require_or_skip
from tests.load_helpers import AppServer, check_saved, run_reviewers

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent / "screenshots"


def test_three_reviewers_and_a_kill_lose_no_saved_label(tmp_path):
    require_or_skip(Path("/usr/bin/chromium").exists(), "Debian chromium is not installed")
    SHOTS.mkdir(exist_ok=True)
    server = AppServer(seeded_db(tmp_path / "load.duckdb", n=40, hostile=False), free_port())
    server.start()
    try:
        reviewers, restart_s = run_reviewers(server, ["ld0", "ld1", "ld2"], seconds=16,
                                             kill_at=6, screenshot=SHOTS / "load_after_kill.png",
                                             wait_for_a_save=True)
    finally:
        server.stop()
    assert restart_s is not None
    assert sum(len(r.saved) for r in reviewers) > 0  # something was measured
    n_stored, missing, twice = check_saved(server.db, reviewers)
    assert missing == [] and twice == []
    assert n_stored >= sum(len(r.saved) for r in reviewers)
