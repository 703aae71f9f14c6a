"""The Report page's population estimate in headless Chromium against a real `streamlit run`
server: the side-by-side chart and the width-vs-n chart are drawn; a screenshot is kept in
tests/e2e/screenshots/report_population.png to look at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.test_report_population_page import population_db

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = population_db(tmp_path_factory.mktemp("e2e-pop") / "pop.duckdb", 4000, 300)
    port = free_port()
    env = {**os.environ, "TRIAGE_DB": str(path), "TRIAGE_USER": "lead", "PYTHONPATH": str(ROOT),
           "TRIAGE_LOG": str(path.with_suffix(".log"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "triage_app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_healthy(proc, f"http://127.0.0.1:{port}")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_report_page_draws_the_population_charts(server, chromium_path):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1800})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "/report")
        page.get_by_role("heading", name="Population estimate", exact=True).wait_for(timeout=90_000)
        page.get_by_text("human-only vs population").wait_for(timeout=60_000)
        page.get_by_text("as human labels grow").wait_for(timeout=60_000)
        body = page.inner_text("body")
        page.get_by_role("heading", name="Population estimate", exact=True).scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "report_population.png"), full_page=False)
        browser.close()
    assert errors == []
    assert "Verdict from the population estimate (PPI++ over 4,000 transcripts" in body
    assert "as narrow as about" in body  # the block's intro (its tables are canvas grids)
