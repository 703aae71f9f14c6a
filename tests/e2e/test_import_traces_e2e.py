"""The Import page's trace preview in headless Chromium against a real `streamlit run` server:
an OTLP file written by the OpenTelemetry SDK is uploaded, its first trace renders as the
conversation it will become, with its counts; a screenshot is kept for a person to look at."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.annotate_helpers import seeded_db
from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.conftest import require_or_skip
from tests.trace_fixtures import (
    ANSWER,
    genai_support_trace,
    otlp_json_lines,
    record_spans,
    write_jsonl,
)

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"


def test_trace_preview_in_chromium(tmp_path):
    require_or_skip(Path("/usr/bin/chromium").exists(),
                    "Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    db = seeded_db(tmp_path / "e2e.duckdb", n=3, hostile=False)
    traces = write_jsonl(tmp_path / "support-traces.jsonl", [
        otlp_json_lines(record_spans(genai_support_trace)),
        otlp_json_lines(record_spans(lambda t: genai_support_trace(t, "conv-2", fail_tool=True,
                                                                   question="Refund order 88?")))])
    port = free_port()
    env = {**os.environ, "TRIAGE_DB": str(db), "PYTHONPATH": str(ROOT),
           "TRIAGE_LOG": str(tmp_path / "triage.log"), "TRIAGE_USER": "lead"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "triage_app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}")
        SHOTS.mkdir(exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
            page.goto(f"http://127.0.0.1:{port}/import")
            page.locator("input[type=file]").set_input_files(str(traces))
            page.get_by_text(re.compile(r"Format: otlp · first 2 traces")).wait_for()
            page.get_by_text(ANSWER).first.wait_for()
            assert page.get_by_text("5 messages, 1 tool call, 1 context document").count() == 1
            page.get_by_text("1 flagged error").click()  # open the failed trace too
            page.get_by_text("error: execute_tool get_order: TimeoutError").wait_for()
            page.screenshot(path=str(SHOTS / "import_trace_preview.png"), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
