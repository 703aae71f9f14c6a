"""The Pre-label page in headless Chromium against a real `streamlit run` and the local LLM
server: start, stop mid-run, resume; the server sees every transcript exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from core.store.categories import register_taxonomy
from core.store.connection import connect
from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.conftest import ROOT, add_transcripts, make_record
from tests.llm_server import LLMServer

pytestmark = pytest.mark.browser


@pytest.fixture
def app(db_path, tmp_path, taxonomy):
    db = connect(db_path)
    register_taxonomy(db, taxonomy)
    add_transcripts(db, [make_record(i) for i in range(10)])
    db.close()
    port = free_port()
    with LLMServer() as server:
        env = {**os.environ, "TRIAGE_DB": str(db_path), "TRIAGE_USER": "ana",
               "TRIAGE_LOG": str(tmp_path / "triage.log"), "TRIAGE_LLM_BASE_URL": server.base_url,
               "TRIAGE_LLM_MODEL": "local-model", "TRIAGE_LLM_MAX_RETRIES": "0"}
        env.pop("OPENAI_API_KEY", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "triage_app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(proc, url)
            yield url, server
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_start_stop_resume_in_browser(app, chromium_path, db_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, server = app
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(f"{url}/prelabel")
        expect(page.get_by_text("10 transcripts to pre-label, 0 already done")).to_be_visible(timeout=30000)
        page.get_by_role("spinbutton", name="Concurrency").fill("1")
        page.get_by_role("spinbutton", name="Concurrency").press("Enter")
        server.state.hold_after(2)  # the third answer waits until the test has pressed Stop
        page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Start").click()
        expect(page.get_by_text("2 of 10")).to_be_visible(timeout=30000)
        expect(page.get_by_text("2 labeled · 0 failed")).to_be_visible()  # the job's live progress
        page.screenshot(path=str(tmp_path / "prelabel_running.png"), full_page=True)
        page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop the run").click()
        server.state.release.set()
        expect(page.get_by_text("Stopped. Finished pre-labels are kept")).to_be_visible(timeout=30000)
        page.screenshot(path=str(tmp_path / "prelabel_stopped.png"), full_page=True)
        k = server.state.count
        assert 2 <= k < 10
        expect(page.get_by_text(f"{10 - k} transcripts to pre-label, {k} already done")).to_be_visible()
        page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Start").click()
        expect(page.get_by_text(f"done: {10 - k} labeled, {k} cached, 0 failed")).to_be_visible(timeout=60000)
        page.screenshot(path=str(tmp_path / "prelabel_resumed.png"), full_page=True)
        browser.close()
    asked = [re.search(r"\(#(\d+)\)", r["body"]["messages"][-1]["content"]).group(1)
             for r in server.state.requests]
    assert sorted(asked, key=int) == [str(i) for i in range(10)]  # each exactly once
    shots = os.environ.get("TRIAGE_SCREENSHOTS")
    if shots:
        for name in ("prelabel_running.png", "prelabel_stopped.png", "prelabel_resumed.png"):
            (tmp_path / name).replace(os.path.join(shots, name))
