"""The landing page in headless Chromium, served by `triage app` on a fresh database."""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.demo_helpers import TRIAGE, clean_env


@pytest.mark.browser
def test_first_start_shows_the_demo_summary(tmp_path, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    env = {**clean_env(), "TRIAGE_USER": "ayla"}
    # A fresh folder and no --db: the demo, from its own file.
    proc = subprocess.Popen([*TRIAGE, "app", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            expect(page.get_by_text("Final labels by category")).to_be_visible(timeout=30_000)
            expect(page.get_by_text("Annotate: 60 of 300 transcripts have no label yet.")).to_be_visible()
            expect(page.get_by_text("Reviewer: ayla")).to_be_visible()
            expect(page.get_by_text("The bundled demo (triage-demo.duckdb)")).to_be_visible()
            expect(page.get_by_role("button", name="Start our own database (triage.duckdb)")
                   ).to_be_visible()
            expect(page.get_by_test_id("stMetricValue")).to_have_text(
                ["300", "236", "48", "4", "300", "0"])
            page.screenshot(path=tmp_path / "home.png", full_page=True)
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert (tmp_path / "home.png").stat().st_size > 10_000
