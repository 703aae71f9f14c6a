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
from tests.annotate_helpers import HOSTILE_SOURCE, HOSTILE_TEXT, big_record, seeded_db
from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.conftest import add_transcripts, require_or_skip

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"
LONG_SOURCE = "long120"


def long_record() -> dict:
    """120 messages with a failed tool call at #57 and a last message to find."""
    rec = big_record(n_messages=120, target_bytes=80_000)
    rec["id"] = "long-120"
    rec["messages"][57] = {"role": "tool", "tool_call_id": "c56",
                           "content": '{"error": "timeout", "retry": false}'}
    rec["messages"][119] = {"role": "assistant", "content": "LAST MESSAGE: the refund is done."}
    return rec


@pytest.fixture(scope="module")
def server(tmp_path_factory, browser):
    path = seeded_db(tmp_path_factory.mktemp("e2e") / "e2e.duckdb", n=30, demo=True)
    db = connect(path)
    add_transcripts(db, [long_record()], source=LONG_SOURCE)
    db.close()
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


def in_view(page, selector: str) -> bool:
    """Whether the element is inside the viewport now (not merely in the DOM)."""
    return page.evaluate("""(sel) => { const el = document.querySelector(sel); if (!el) return false;
        const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }""",
                         selector)


def panel_in_view(page, shot: str) -> None:
    """Save & next, the whole chooser and "transcript k of N" are inside the viewport; a screenshot."""
    page.screenshot(path=str(SHOTS / shot))
    assert in_view(page, ".st-key-label_panel [data-testid=stBaseButton-primary]")
    assert page.evaluate("""() => { const all = [...document.querySelectorAll(
        '.st-key-label_panel [class*="st-key-cat_"]')]; return all.length > 0 && all.every(el => {
        const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }); }""")
    assert page.get_by_text("transcript 1 of 1").is_visible() and in_view(
        page, ".st-key-label_panel [data-testid=stMarkdown]")


def test_long_transcript_read_to_its_end_and_labeled_by_keyboard(browser, server):
    """120 messages: the chooser, save and "transcript k of N" stay on screen at any scroll
    position; T jumps to the tool error, L to the end (scrolled into view); labeled by keys."""
    page = open_annotate(browser, server, "reader")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Order").click()
    page.get_by_role("option", name="Filtered").click()
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Source").click()
    page.get_by_role("option", name=LONG_SOURCE).click()
    page.get_by_text("transcript 1 of 1").wait_for()
    settle(page)
    page.get_by_text("80 below off screen").wait_for()
    panel_in_view(page, "annotate_long_top.png")
    page.mouse.click(5, 500)  # focus on the page, not a widget
    page.keyboard.press("j")
    page.get_by_text("40 above and 40 below off screen").wait_for()
    settle(page)
    panel_in_view(page, "annotate_long_after_j.png")
    page.keyboard.press("k")
    page.get_by_text("80 below off screen").wait_for()
    settle(page)
    page.keyboard.press("t")
    page.get_by_text("40 above and 40 below off screen").wait_for()
    settle(page)
    page.wait_for_function("() => { const el = document.querySelector('#tr-m57'); if (!el) "
                           "return false; const r = el.getBoundingClientRect(); "
                           "return r.top >= 0 && r.top < innerHeight; }")
    page.keyboard.press("l")
    page.get_by_text("80 above off screen").wait_for()
    settle(page)
    page.wait_for_function("() => { const el = document.querySelector('#tr-m119'); if (!el) "
                           "return false; const r = el.getBoundingClientRect(); "
                           "return r.bottom > 0 && r.top < innerHeight; }")
    assert page.evaluate("scrollY") > 0 or page.evaluate(
        "document.querySelector('[data-testid=stMain]').scrollTop") > 0
    last = page.locator("#tr-m119")
    assert "LAST MESSAGE: the refund is done." in last.inner_text()
    for sel in (".st-key-label_panel [data-testid=stBaseButton-primary]",):
        assert in_view(page, sel)  # Save & next, scrolled to the end
    assert page.get_by_text("transcript 1 of 1").is_visible() and in_view(
        page, ".st-key-label_panel [data-testid=stMarkdown]")
    page.screenshot(path=str(SHOTS / "annotate_long_end.png"))
    choose_by_keyboard(page, "8", "Reasoning")
    page.keyboard.press("y")
    page.locator('[data-testid="stRadio"] input[value="yes"]:checked, '
                 '[data-testid="stRadio"] label:has(input:checked)').first.wait_for()
    settle(page)
    page.screenshot(path=str(SHOTS / "annotate_long_chosen.png"))
    page.keyboard.press("s")
    page.get_by_text("Saved: long-120 → Reasoning").wait_for()
    rows = db_rows(server, "SELECT transcript_id, primary_label, context_present FROM annotations "
                           "WHERE annotator = 'reader'")
    assert rows == [("long-120", "reasoning", "yes")]
    page.context.close()


def test_twenty_typed_ahead_pairs_all_land_in_order(browser, server):
    """Twenty "category + S" pairs typed without waiting: twenty labels on twenty transcripts,
    in the order typed (categories alternate), none twice."""
    page = open_annotate(browser, server, "fast")
    first = current_id(page)
    page.mouse.click(5, 500)
    for i in range(20):
        page.keyboard.press("6" if i % 2 == 0 else "8")
        page.keyboard.press("s")
    try:
        page.get_by_text("you labeled 20 today").wait_for(timeout=180_000)  # not a speed check
    except Exception:  # say what landed and show the page, for whoever reads the failure
        page.screenshot(path=str(SHOTS / "twenty_pairs_timeout.png"))
        landed = db_rows(server, "SELECT transcript_id, primary_label FROM annotations WHERE "
                                 "annotator = 'fast' ORDER BY created_at")
        raise AssertionError(f"{len(landed)} labels landed: {landed}; page: "
                             f"{page.get_by_test_id('stMain').inner_text()[:600]!r}") from None
    settle(page)
    rows = db_rows(server, "SELECT transcript_id, primary_label FROM annotations WHERE "
                           "annotator = 'fast' AND kind = 'label' ORDER BY created_at")
    assert [label for _, label in rows] == ["tone_policy", "reasoning"] * 10
    assert rows[0][0] == first and len({tid for tid, _ in rows}) == 20
    assert page.get_by_text("Not saved").count() == 0
    page.context.close()


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
