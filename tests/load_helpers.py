"""Reviewers labeling at once in Chromium against a real `triage app`, the server SIGKILLed and
restarted on the same port in the middle (issue 15 §8). Shared by benchmarks/load_bench.py and
tests/e2e/test_load_e2e.py.

Each reviewer is a browser context driven by keyboard, as a person would: read the transcript id,
press a category key, press `s`, and count the label only when the page says
"Saved: <id> → …" (the session's own message). After the kill the page reconnects (or is
reloaded), asks the name again and goes on."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
SETTLED = ("() => !document.querySelector('[data-testid=stStatusWidgetRunningIcon]') && "
           "!document.querySelector('[data-stale=true]')")
FRESH_PRIMARY = ('[data-testid="stElementContainer"]:not([data-stale="true"]) '
                 '[data-testid="stBaseButton-primary"]')
PROGRESS = re.compile(r"transcript \d+ of")


@dataclass
class Reviewer:
    """What one reviewer saw: the labels shown as Saved, and how long each save took."""

    name: str
    saved: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds from `s` to "Saved"
    interruptions: int = 0


class AppServer:
    """`triage --db DB app --port PORT` in its own process group (killed whole with SIGKILL)."""

    def __init__(self, db: Path, port: int) -> None:
        self.db, self.port, self.proc = db, port, None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGE_LOG": str(self.db.with_suffix(".log"))}
        env.pop("TRIAGE_USER", None)
        env.pop("TRIAGE_DB", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core.cli.main", "--db", str(self.db), "app", "--port",
             str(self.port), "--", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"triage app exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"triage app did not become healthy at {self.url}")

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)  # the app and its streamlit child
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


async def _settle(page) -> None:
    await page.wait_for_function(SETTLED, timeout=30000)


async def _ready(page, name: str) -> None:
    """Answer the name prompt when the page asks, then wait for the Annotate form."""
    save = page.get_by_role("button", name=re.compile("Save & next"))
    asking = page.get_by_label("Your name")
    await save.or_(asking).first.wait_for(timeout=30000)
    if await asking.count():
        await asking.fill(name)
        await page.keyboard.press("Enter")
        await save.wait_for(timeout=30000)
    await _settle(page)


async def _current_id(page) -> str:
    line = page.get_by_test_id("stMarkdown").filter(has_text=PROGRESS)
    return (await line.first.inner_text(timeout=10000)).split("·")[-1].strip()


async def _label_one(page, r: Reviewer) -> None:
    await _ready(page, r.name)
    tid = await _current_id(page)
    await page.keyboard.press("8")  # Reasoning / completeness
    await page.locator(FRESH_PRIMARY, has_text="Reasoning").first.wait_for(timeout=30000)
    await _settle(page)
    began = time.perf_counter()
    await page.keyboard.press("s")
    await page.get_by_text(f"Saved: {tid} →").first.wait_for(timeout=30000)
    r.latencies.append(time.perf_counter() - began)
    r.saved.append(tid)
    await _settle(page)


class Window:
    """Until when reviewers label: `seconds` from the start, stretched (by at most `grace`
    seconds) until someone has saved a label, so a slow machine still measures something."""

    def __init__(self, seconds: float, reviewers: list[Reviewer], wait_for_a_save: bool,
                 grace: float = 60.0) -> None:
        self.start = time.monotonic()
        self.end, self.reviewers = self.start + seconds, reviewers
        self.cap = self.end + (grace if wait_for_a_save else 0.0)

    def saved(self) -> bool:
        return any(r.saved for r in self.reviewers)

    def open(self) -> bool:
        now = time.monotonic()
        return now < self.end or (now < self.cap and not self.saved())


async def _review(browser, server: AppServer, r: Reviewer, window: Window) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(server.url + "/annotate")
    while window.open():
        try:
            await _label_one(page, r)
        except Exception:  # the server went away mid-label: that label was never "Saved"
            r.interruptions += 1
            await _back(page, server, window.cap)
    await context.close()


async def _back(page, server: AppServer, until: float) -> None:
    """Wait for the server to answer again, then reload the page (a fresh session)."""
    while time.monotonic() < until:
        try:
            await asyncio.to_thread(urllib.request.urlopen, f"{server.url}/_stcore/health", None, 2)
            break
        except OSError:
            await asyncio.sleep(0.3)
    try:
        await page.goto(server.url + "/annotate", timeout=30000)
    except Exception:
        await asyncio.sleep(0.5)


async def _kill_and_restart(server: AppServer, at: float, window: Window) -> float:
    """SIGKILL at `at`, or later, once a label is saved when the window waits for one."""
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    while window.cap > window.end and not window.saved() and time.monotonic() < window.cap:
        await asyncio.sleep(0.2)
    server.kill9()
    began = time.monotonic()
    await asyncio.to_thread(server.start)
    return time.monotonic() - began


async def _run(server: AppServer, names: list[str], seconds: float, kill_at: float | None,
               screenshot: Path | None, wait_for_a_save: bool
               ) -> tuple[list[Reviewer], float | None]:
    from playwright.async_api import async_playwright

    reviewers = [Reviewer(n) for n in names]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        window = Window(seconds, reviewers, wait_for_a_save)
        tasks = [_review(browser, server, r, window) for r in reviewers]
        killer = [] if kill_at is None else [
            _kill_and_restart(server, window.start + kill_at, window)]
        results = await asyncio.gather(*killer, *tasks)
        if screenshot is not None:
            page = await (await browser.new_context()).new_page()
            await page.goto(server.url + "/annotate")
            await _ready(page, "shot")
            await page.screenshot(path=str(screenshot))
        await browser.close()
    return reviewers, (results[0] if killer else None)


def run_reviewers(server: AppServer, names: list[str], seconds: float,
                  kill_at: float | None = None, screenshot: Path | None = None,
                  wait_for_a_save: bool = False) -> tuple[list[Reviewer], float | None]:
    """Reviewers labeling for `seconds`; the server SIGKILLed `kill_at` seconds in and restarted
    on its port. Returns what each saw, and how long the restart took (None without a kill).
    `wait_for_a_save`: the kill and the end wait (up to a minute) for a first saved label, so a
    test on a slow machine checks a kill that follows a save (the benchmark keeps fixed times)."""
    return asyncio.run(_run(server, names, seconds, kill_at, screenshot, wait_for_a_save))


def check_saved(db_path: Path, reviewers: list[Reviewer]) -> tuple[int, list, list]:
    """(labels in the database, Saved labels missing from it, labels stored twice). Read with
    the server stopped."""
    from core.store.connection import connect

    db = connect(db_path)
    try:
        rows = db.con.execute(
            "SELECT annotator, transcript_id, count(*) FROM annotations WHERE kind = 'label' "
            "AND annotator IN (SELECT unnest(?)) GROUP BY 1, 2",
            [[r.name for r in reviewers]]).fetchall()
    finally:
        db.close()
    stored = {(a, t) for a, t, _ in rows}
    missing = [(r.name, t) for r in reviewers for t in r.saved if (r.name, t) not in stored]
    twice = [(a, t, n) for a, t, n in rows if n > 1]
    return len(rows), missing, twice


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
