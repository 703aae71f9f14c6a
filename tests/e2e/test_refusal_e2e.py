"""A reviewer who opens admin pages by deep link, in headless Chromium against a real
`triage app`: each page is refused with who may open it and how to ask, and its content never
draws. The screenshot of the Settings refusal is saved in tests/e2e/screenshots, for a person
to look at."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from core.admin import change_setting
from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.taxonomy import load_taxonomy
from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.demo_helpers import TRIAGE, clean_env
from tests.seed_helpers import ROOT, seed_disagreements

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture
def team_app(tmp_path):
    """`triage app` on a team database (admins: lead; analysts: ana), the user preset to
    zoe, a reviewer; loopback, so the preset name is trusted."""
    db_path = tmp_path / "team.duckdb"
    db, taxonomy = connect(db_path), load_taxonomy()
    register_taxonomy(db, taxonomy)
    seed_disagreements(db, taxonomy)
    change_setting(db, "admins", ["lead"], "lead")
    change_setting(db, "analysts", ["ana"], "lead")
    db.close()
    port = free_port()
    env = {**clean_env(), "TRIAGE_USER": "zoe", "TRIAGE_LOG": str(tmp_path / "triage.log")}
    proc = subprocess.Popen([*TRIAGE, "--db", str(db_path), "app", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the CLI and the server it started
        proc.communicate(timeout=30)


REFUSALS = {
    "settings": ("The Settings page is for admins. You are 'zoe' (reviewer). Ask an admin "
                 "(lead) to add your name to admins"),
    "admin": "The Admin page is for admins. You are 'zoe' (reviewer).",
    "import": "The Import page is for admins. You are 'zoe' (reviewer).",
    "sql": ("The SQL page is for analysts and admins. You are 'zoe' (reviewer). Ask an admin "
            "(lead) to add your name to analysts (Admin page, or triage config set analysts "
            "'[\"ana\", \"zoe\"]')."),
    "adjudicate": "The Adjudicate page is for analysts and admins. You are 'zoe' (reviewer).",
}


def test_a_reviewer_opening_admin_pages_by_deep_link_is_told_who_may_and_how_to_ask(
        team_app, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            for path, text in REFUSALS.items():
                page.goto(f"{team_app}/{path}")
                alert = page.get_by_test_id("stAlertContentError")
                expect(alert).to_contain_text(text, timeout=60_000)
                if path == "settings":
                    expect(alert).to_contain_text("""triage config set admins '["lead", "zoe"]'""")
                    expect(page.get_by_test_id("stNumberInput")).to_have_count(0)
                    SHOTS.mkdir(exist_ok=True)
                    page.screenshot(path=str(SHOTS / "refusal.png"), full_page=True)
                if path == "sql":
                    expect(page.get_by_role("button", name="Run")).to_have_count(0)
            nav = page.get_by_test_id("stSidebarNav")  # the pages zoe may open, no others
            expect(nav.get_by_role("link", name="Browse")).to_be_visible()
            expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
            expect(nav.get_by_role("link", name="SQL")).to_have_count(0)
        finally:
            browser.close()
    assert (SHOTS / "refusal.png").stat().st_size > 10_000
