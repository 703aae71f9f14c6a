"""Issue 14 in headless Chromium, on `triage app` started as a new user starts it (a fresh folder,
no --db): every page loads with every non-local request blocked and none attempted; then the
demo → the team's own database → the user's tau-bench file imported on the Import page →
`triage report` while the app holds the database, and the reviewers' pages without the outcome
fields."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.demo_helpers import TRIAGE, clean_env, demo_database
from tests.team_helpers import TAU, TAU_OUTCOME_KEYS

pytestmark = pytest.mark.browser
PAGES = ["", "import", "annotate", "adjudicate", "browse", "prelabel", "report", "sql",
         "settings", "admin"]
NAV = ["Import", "Annotate", "Adjudicate", "Browse", "Pre-label", "Report", "SQL", "Settings",
       "Admin", "Home"]
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "data:",
         "blob:", "about:")


@pytest.fixture
def fresh_app(tmp_path):
    """`triage app` in an empty folder, no --db: it serves the demo from triage-demo.duckdb
    (copied from the run's one demo load; tests/test_home_browser.py watches a first start
    load it)."""
    demo_database(tmp_path / "triage-demo.duckdb")
    port = free_port()
    env = {**clean_env(), "TRIAGE_USER": "ayla"}
    proc = subprocess.Popen([*TRIAGE, "app", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, timeout=120)
        yield url, tmp_path
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def _blocking(page) -> list[str]:
    """Abort every request that leaves this machine, and keep its address."""
    blocked: list[str] = []

    def route(r) -> None:
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return blocked


def test_every_page_loads_offline_with_no_external_request(fresh_app, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    url, folder = fresh_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        blocked = _blocking(page)
        per_page = {}
        for path in PAGES:  # each a fresh session, as a deep link or a reload is
            page.goto(f"{url}/{path}")
            expect(page.get_by_text("The bundled demo (triage-demo.duckdb)")).to_be_visible(
                timeout=60_000)
            page.wait_for_load_state("networkidle")
            per_page[path or "home"] = len(blocked)
        for name in NAV:  # and one session walking the sidebar
            page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
            expect(page.get_by_text("The bundled demo (triage-demo.duckdb)")).to_be_visible(
                timeout=60_000)
            page.wait_for_load_state("networkidle")
            per_page[f"nav:{name}"] = len(blocked)
        page.screenshot(path=str(folder / "home-demo.png"), full_page=True)
        assert blocked == [], per_page
        assert set(per_page.values()) == {0}
        # The counter itself works: a request to the public font host is caught.
        page.evaluate("fetch('https://fonts.gstatic.com/s/i/x.svg').catch(() => null)")
        page.wait_for_timeout(500)
        assert blocked == ["https://fonts.gstatic.com/s/i/x.svg"]
        browser.close()
    assert sorted(p.name for p in folder.glob("*.duckdb")) == [
        "triage-demo.duckdb", "triage-demo.snapshot.duckdb"]


def test_from_the_demo_to_the_teams_own_database(fresh_app, chromium_path, shared_data):
    from playwright.sync_api import expect, sync_playwright

    url, folder = fresh_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(url)
        expect(page.get_by_text("The bundled demo (triage-demo.duckdb)")).to_be_visible(
            timeout=60_000)
        page.get_by_role("button", name="Start our own database (triage.duckdb)").click()
        expect(page.get_by_text("now serves your team's database triage.duckdb")).to_be_visible(
            timeout=30_000)
        expect(page.get_by_test_id("stMetricValue").first).to_have_text("0")
        expect(page.get_by_text("The bundled demo (triage-demo.duckdb)")).to_have_count(0)

        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Import").click()
        page.locator("input[type=file]").set_input_files(str(shared_data / TAU))
        keys = json.loads((shared_data / TAU).read_text().splitlines()[0])["metadata"]
        panel = page.get_by_text(f"Metadata reviewers see: {len(keys) - 4} of {len(keys)} keys")
        expect(panel).to_be_visible(timeout=60_000)
        for key in TAU_OUTCOME_KEYS:
            expect(page.get_by_test_id("stExpander").get_by_text(key, exact=True).first).to_be_visible()
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_text("Imported, nothing rejected. (exit code 0)")).to_be_visible(
            timeout=120_000)
        page.screenshot(path=str(folder / "import-team.png"), full_page=True)

        snapshot = folder / "triage.snapshot.duckdb"
        page.wait_for_timeout(100)
        for _ in range(100):  # the refresh after the import runs in the background
            if _count(snapshot) == 200:
                break
            page.wait_for_timeout(300)
        # While the app holds the database, a reading command reads the snapshot.
        report = subprocess.run([*TRIAGE, "--db", str(folder / "triage.duckdb"), "report"],
                                cwd=folder, env=clean_env(), capture_output=True, text=True,
                                timeout=120)
        assert report.returncode == 0, report.stderr
        assert "reading the snapshot" in report.stderr
        assert json.loads(report.stdout)["n_transcripts"] == 200

        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Annotate").click()
        expect(page.get_by_text("transcript 1 of 200")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("user_instruction").first).to_be_attached()  # a grid cell
        html = page.content()
        assert [k for k in TAU_OUTCOME_KEYS if k in html] == []
        page.screenshot(path=str(folder / "annotate-team.png"), full_page=True)

        page.get_by_test_id("stSidebarNav").get_by_role("link", name="SQL").click()
        page.get_by_label("Query (one SELECT; read-only; no file access)").fill(
            "SELECT source, count(*) AS n FROM transcripts GROUP BY 1")
        run = page.get_by_role("button", name="Run")
        run.click()
        expect(page.get_by_text("1 row in")).to_be_visible(timeout=30_000)
        result = page.get_by_test_id("stDataFrame").first.bounding_box()
        below = result["y"] - (run.bounding_box()["y"] + run.bounding_box()["height"])
        assert 0 < below < 250, below  # right under the query, not under the whole schema
        page.screenshot(path=str(folder / "sql-team.png"), full_page=True)
        browser.close()
    # Neither database holds a row of the other (read from the snapshots: the app holds both).
    assert _count(folder / "triage-demo.snapshot.duckdb",
                  "SELECT count(*) FROM transcripts WHERE source <> 'demo'") == 0
    assert _count(folder / "triage.snapshot.duckdb",
                  "SELECT count(*) FROM transcripts WHERE source = 'demo'") == 0


def _count(path: Path, sql: str = "SELECT count(*) FROM transcripts") -> int | None:
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql).fetchone()[0]
    except duckdb.Error:
        return None
