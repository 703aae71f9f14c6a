"""Retake the README's screenshot: the Report page on the bundled demo, in headless Chromium.

    python scripts/readme_screenshot.py        writes docs/images/report-demo.png

Needs the test extras (playwright) and Debian's Chromium at /usr/bin/chromium, as the browser
tests do. The app runs on a fresh demo database in a temporary folder, on a free port; the
picture is cropped to the verdict, the headline figures and the fix-class chart, and reduced to
64 colours so it stays small (~20 kB). Look at it before committing it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable as a plain script from a checkout, without an install

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, free_port, wait_healthy  # noqa: E402

OUTPUT = ROOT / "docs" / "images" / "report-demo.png"
VIEWPORT = {"width": 1280, "height": 900}
CROP = {"x": 0, "y": 70, "width": 1280, "height": 590}  # below Streamlit's empty header band


def start_app(folder: Path) -> tuple[subprocess.Popen, str]:
    """`triage app` in an empty folder (it serves the demo from its own file), on a free port;
    returns it and its URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGE_LOG": str(folder / "triage.log")}
    env.pop("TRIAGE_USER", None)  # the picture shows the app as a reviewer first sees it
    env.pop("TRIAGE_DB", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.cli.main", "app",
         "--port", str(port), "--", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url, timeout=120)
    return proc, url


def shoot_report(url: str, raw: Path) -> None:
    """Sign in as a reviewer on /report, wait for the verdict's chart, take the cropped shot."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(url + "/report")
        page.get_by_label("Your name").fill("dana")
        page.keyboard.press("Enter")
        page.get_by_test_id("stMetric").first.wait_for(timeout=120_000)
        page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)  # Plotly draws its bars after the element appears
        page.screenshot(path=str(raw), clip=CROP)
        browser.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="triage-shot-") as tmp:
        folder = Path(tmp)
        proc, url = start_app(folder)
        try:
            shoot_report(url, folder / "raw.png")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        image = Image.open(folder / "raw.png").convert("RGB")
        image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(OUTPUT, optimize=True)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size / 1000:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
