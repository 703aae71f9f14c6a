"""The Discover page in headless Chromium on the demo: group the notes, the saturation chart,
the axial-coding table; a screenshot to look at (tests/e2e/screenshots/discover.png)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.conftest import require_or_skip
from tests.demo_helpers import demo_database

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "demo.duckdb"
    demo_database(path)
    port = free_port()
    env = {**os.environ, "TRIAGE_DB": str(path), "PYTHONPATH": str(ROOT),
           "TRIAGE_LOG": str(tmp_path / "triage.log")}
    for var in ("TRIAGE_USER", "OPENAI_API_KEY", "TRIAGE_LLM_BASE_URL"):
        env.pop(var, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "triage_app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_healthy(proc, f"http://127.0.0.1:{port}")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_discover_groups_the_demo_notes_and_draws_saturation(server):
    chromium = "/usr/bin/chromium"
    require_or_skip(Path(chromium).exists(), "Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(server + "/discover")
        page.get_by_text("Who is reviewing?").wait_for(timeout=60_000)
        page.get_by_label("Your name").fill("ann")
        page.keyboard.press("Enter")
        page.get_by_role("button", name="Group the notes").click(timeout=60_000)
        page.get_by_text("candidate categories from 67 notes").wait_for(timeout=120_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        page.get_by_text("Saturation: categories found vs notes coded").wait_for()
        page.get_by_role("heading", name="Axial coding").wait_for()
        assert page.get_by_role("button", name="Save into taxonomies/ and make it active").count() == 1
        page.wait_for_timeout(1500)  # the chart's transition ends before the picture
        page.screenshot(path=str(SHOTS / "discover.png"))
        page.get_by_role("heading", name="Axial coding").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "discover-axial.png"))
        browser.close()
