"""The SQL page in headless Chromium against a real `streamlit run` server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.taxonomy import load_taxonomy
from tests.analysts_helpers import fill
from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sqlbrowser")
    db = connect(folder / "triage.duckdb")
    taxonomy = load_taxonomy("default")
    register_taxonomy(db, taxonomy)
    fill(db, taxonomy)
    db.close()
    port = free_port()
    env = {"TRIAGE_DB": str(folder / "triage.duckdb"), "TRIAGE_USER": "ana",
           "PATH": str(Path(sys.executable).parent), "HOME": str(folder)}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "triage_app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(server, url)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def test_sql_page_runs_a_query_and_refuses_a_file_read(app_url, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="SQL").click()
        editor = page.get_by_label("Query (one SELECT; read-only; no file access)")
        editor.fill("SELECT transcript_id, primary_label, status FROM final_labels ORDER BY 1")
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text("8 rows in")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("final_labels (view)")).to_be_visible()
        page.screenshot(path=str(tmp_path / "sql-result.png"), full_page=True)
        editor.fill("SELECT * FROM read_csv('/etc/passwd')")
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text("Files cannot be read or written from the SQL page")).to_be_visible(
            timeout=30_000)
        page.screenshot(path=str(tmp_path / "sql-refused.png"), full_page=True)
        browser.close()
    print(f"screenshots in {tmp_path}")
