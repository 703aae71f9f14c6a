"""The Report page's red flags and cost panel on the bundled demo, in headless Chromium against
a real `streamlit run`: the chart drawn, the flags the demo earns, a screenshot looked at."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.conftest import ROOT
from tests.demo_helpers import demo_database

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_app(tmp_path):
    db_path = tmp_path / "demo.duckdb"
    demo_database(db_path)
    port = free_port()
    env = {**os.environ, "TRIAGE_DB": str(db_path), "TRIAGE_USER": "lead",
           "TRIAGE_LOG": str(tmp_path / "triage.log")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "triage_app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cost_panel_and_red_flags_on_the_demo(demo_app, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        # Tall enough that nothing scrolls: Streamlit scrolls its own container, not the window.
        page = browser.new_page(viewport={"width": 1280, "height": 7000})
        page.goto(f"{demo_app}/report")
        heading = page.get_by_role("heading", name="What tuning would cost")
        expect(heading).to_be_visible(timeout=60000)
        flags = page.get_by_role("heading", name="Before you tune: red flags")
        flags.scroll_into_view_if_needed()
        page.wait_for_selector(".js-plotly-plot .main-svg >> nth=2")  # the third chart: cost
        panel = page.locator("[data-testid='stMainBlockContainer']")
        chart = page.locator(".js-plotly-plot").nth(2)
        chart.scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # let the data grids below draw before the picture
        legend = chart.inner_text()
        top, bottom = (page.get_by_role("heading", name=n).evaluate(
            "e => e.getBoundingClientRect().top + window.scrollY")
            for n in ("Before you tune: red flags", "Next actions"))
        page.screenshot(path=str(tmp_path / "report_cost_panel.png"),
                        clip={"x": 0, "y": top - 10, "width": 1280, "height": bottom - top})
        body = panel.inner_text()
        browser.close()
    assert bottom > top
    assert "A tuned model only addresses behavior failures: 21.4% of labeled failures" in body
    assert "break-even at 507,499 queries a month" in body
    for name in ("API", "Tuned model", "Break-even", "Your volume (155/month)"):
        assert name in legend
    shots = os.environ.get("TRIAGE_SCREENSHOTS")
    if shots:
        shutil.copy(tmp_path / "report_cost_panel.png", shots)
