"""The Annotate page in headless Chromium against a real `streamlit run` server.

One server per module (a tmp database from `seeded_db`); the kill -9 test runs last and
ends it. Playwright's auto-wait does the waiting; nothing sleeps.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.store.connection import connect
from tests.annotate_helpers import HOSTILE_SOURCE, HOSTILE_TEXT, seeded_db
from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.conftest import require_or_skip

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory, browser):
    path = seeded_db(tmp_path_factory.mktemp("e2e") / "e2e.duckdb", n=30, demo=True)
    port = free_port()
    env = {**os.environ, "TRIAGE_DB": str(path), "PYTHONPATH": str(ROOT),
           "TRIAGE_LOG": str(path.with_suffix(".log"))}
    env.pop("TRIAGE_USER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "triage_app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_healthy(proc, f"http://127.0.0.1:{port}")
    yield {"url": f"http://127.0.0.1:{port}", "db": path, "proc": proc}
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    # Same rule as conftest's function-scoped `chromium_path`, for a module-scoped browser.
    chromium_path = "/usr/bin/chromium"
    require_or_skip(Path(chromium_path).exists(),
                    "Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_annotate(browser, server, name: str):
    """A fresh browser context deep-linking to /annotate; gives its name when asked."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(server["url"] + "/annotate")
    page.get_by_text("Who is reviewing?").wait_for()
    page.get_by_label("Your name").fill(name)
    page.keyboard.press("Enter")
    page.get_by_role("button", name=re.compile("Save & next")).wait_for()
    settle(page)
    return page


def header(page):
    return page.get_by_text(re.compile(r"transcript \d+ of \d+"))


def current_id(page) -> str:
    """The transcript id at the end of the progress line."""
    line = page.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"transcript \d+ of"))
    return line.first.inner_text().split("·")[-1].strip()


# True once the script run is over: no running icon, no stale (previous-run) elements.
SETTLED = ("() => !document.querySelector('[data-testid=stStatusWidgetRunningIcon]') && "
           "!document.querySelector('[data-stale=true]')")
FRESH_PRIMARY = '[data-testid="stElementContainer"]:not([data-stale="true"]) ' \
                '[data-testid="stBaseButton-primary"]'


def settle(page) -> None:
    """Wait for the current rerun to finish (Streamlit coalesces keys pressed mid-run)."""
    page.wait_for_function(SETTLED)


def choose_by_keyboard(page, key: str, category: str) -> None:
    page.keyboard.press(key)
    page.locator(FRESH_PRIMARY, has_text=category).first.wait_for()
    settle(page)


def label_by_keyboard(page, key: str, category: str, done: int) -> None:
    choose_by_keyboard(page, key, category)
    page.keyboard.press("s")
    try:
        page.get_by_text(f"you labeled {done} today").wait_for()
        settle(page)
    except Exception:
        page.screenshot(path=str(SHOTS / "debug_label.png"), full_page=True)
        raise


def db_rows(server, sql):
    # The server holds the file; its snapshot is not our business here, so read via a copy
    # only after the server is gone (kill test) or through the app. Here: open read-only copy.
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / "copy.duckdb"
        shutil.copy(server["db"], copy)
        wal = Path(str(server["db"]) + ".wal")
        if wal.exists():
            shutil.copy(wal, Path(str(copy) + ".wal"))
        db = connect(copy)
        try:
            return db.con.execute(sql).fetchall()
        finally:
            db.close()


def test_deep_link_in_fresh_context_asks_name_then_shows_page(browser, server):
    """First in the module: the server's very first page request is this deep link."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(server["url"] + "/annotate")
    page.get_by_label("Your name").wait_for()
    settle(page)
    page.screenshot(path=str(SHOTS / "annotate_identity.png"))
    page.get_by_label("Your name").fill("deep")
    page.keyboard.press("Enter")
    header(page).wait_for()
    page.get_by_role("button", name=re.compile("Tone . policy")).wait_for()
    # The app's own navigation (PAGES), not Streamlit's pages/ auto-list of file names.
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Report", exact=True).wait_for()
    assert nav.get_by_text("Home", exact=True).is_visible()
    assert nav.get_by_text("triage app").count() == 0
    page.screenshot(path=str(SHOTS / "annotate_deep_link.png"), full_page=True)
    page.context.close()


def test_hostile_transcript_is_shown_as_text(browser, server):
    page = open_annotate(browser, server, "sec")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Order").click()
    page.get_by_role("option", name="Filtered").click()
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Source").click()
    page.get_by_role("option", name=HOSTILE_SOURCE).click()
    page.get_by_text("1 of 1").wait_for()
    body = page.locator('[data-testid="stMain"]')
    body.locator(".tr-user").get_by_text(HOSTILE_TEXT).wait_for()
    page.screenshot(path=str(SHOTS / "annotate_hostile.png"), full_page=True)
    assert dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    assert body.locator("script", has_text="__pwned").count() == 0
    page.context.close()


def test_label_five_by_keyboard_reload_and_see_them(browser, server):
    page = open_annotate(browser, server, "kim")
    seen = []
    for done in range(1, 6):
        seen.append(current_id(page))
        label_by_keyboard(page, "6", "Tone / policy", done)
    page.screenshot(path=str(SHOTS / "annotate_after_five.png"), full_page=True)
    page.reload()
    page.get_by_label("Your name").fill("kim")
    page.keyboard.press("Enter")
    try:
        page.get_by_text("you labeled 5 today").wait_for()
    except Exception:
        page.screenshot(path=str(SHOTS / "debug_reload.png"), full_page=True)
        raise
    sidebar = page.get_by_test_id("stSidebar")
    for tid in seen:  # wait_for: the sidebar may still be drawing after the header
        sidebar.get_by_text(f"{tid} → Tone / policy").wait_for()
    page.screenshot(path=str(SHOTS / "annotate_after_reload.png"), full_page=True)
    rows = db_rows(server, "SELECT transcript_id FROM annotations WHERE annotator = 'kim' "
                           "AND kind = 'label' AND primary_label = 'tone_policy'")
    assert sorted(r[0] for r in rows) == sorted(seen)
    page.context.close()


def test_esc_leaves_a_text_field_and_keys_work_again(browser, server):
    page = open_annotate(browser, server, "esc")
    page.get_by_label("Note").click()
    page.keyboard.type("12 s")  # inside the field: text, not shortcuts
    assert page.get_by_label("Note").input_value() == "12 s"
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.tagName") == "BODY"
    settle(page)  # leaving the field applies the note (a rerun)
    label_by_keyboard(page, "2", "Wrong retrieval", 1)
    rows = db_rows(server, "SELECT primary_label, note FROM annotations WHERE annotator = 'esc'")
    assert rows == [("wrong_retrieval", "12 s")]
    page.context.close()


def test_three_reviewers_at_once_lose_nothing(browser, server):
    pages = [open_annotate(browser, server, f"par{i}") for i in range(3)]
    for round_ in (1, 2):
        for p in pages:
            p.keyboard.press("8")
        for p in pages:
            p.locator(FRESH_PRIMARY, has_text="Reasoning").first.wait_for()
            settle(p)
        for p in pages:
            p.keyboard.press("s")
        for p in pages:
            p.get_by_text(f"you labeled {round_} today").wait_for()
            settle(p)
    for p in pages:
        assert p.locator('[data-testid="stException"]').count() == 0
        assert p.get_by_text("Not saved").count() == 0
    pages[0].screenshot(path=str(SHOTS / "annotate_parallel.png"))
    rows = db_rows(server, "SELECT annotator, count(*) FROM annotations WHERE annotator LIKE "
                           "'par%' AND kind = 'label' GROUP BY 1 ORDER BY 1")
    assert rows == [("par0", 2), ("par1", 2), ("par2", 2)]
    distinct = db_rows(server, "SELECT count(DISTINCT transcript_id) FROM annotations "
                               "WHERE annotator LIKE 'par%'")
    assert distinct == [(6,)]  # claims: reviewers at work at once get different transcripts
    for p in pages:
        p.context.close()


def test_kill_9_after_saved_loses_nothing(browser, server):
    """Runs last: it ends the module's server."""
    page = open_annotate(browser, server, "crash")
    header(page).wait_for()
    tid = current_id(page)
    choose_by_keyboard(page, "0", "No failure")
    page.keyboard.press("s")
    page.get_by_text(f"Saved: {tid} → No failure").wait_for()
    os.kill(server["proc"].pid, signal.SIGKILL)
    server["proc"].wait(timeout=20)
    db = connect(server["db"])  # the restart: DuckDB replays its WAL
    try:
        rows = db.con.execute("SELECT transcript_id, primary_label FROM annotations "
                              "WHERE annotator = 'crash'").fetchall()
    finally:
        db.close()
    assert rows == [(tid, "no_failure")]
    page.context.close()
