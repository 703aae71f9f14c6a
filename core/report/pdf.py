"""PDF export: the HTML report printed by headless Chromium (`--print-to-pdf`). Kaleido only
makes chart images, not pages, so a browser is required; without one, BrowserMissing."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from core.errors import BrowserMissing, ExportFailed

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--no-first-run", "--no-pdf-header-footer",
          "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000")


def find_browser(names: Sequence[str] = BROWSER_NAMES, path: str | None = None) -> str | None:
    """The first Chromium-family browser on PATH (or on `path`), or None."""
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def require_browser(browser: str | None = None) -> str:
    """The browser to print with; BrowserMissing naming what to install when there is none."""
    found = browser if browser and Path(browser).exists() else (None if browser else find_browser())
    if not found:
        raise BrowserMissing(
            "PDF export needs a headless Chromium and none was found"
            + (f" at {browser}" if browser else f" on PATH (looked for {', '.join(BROWSER_NAMES)})")
            + ". Install it (Debian/Ubuntu: `apt-get install -y chromium`), or export HTML "
            "and print it from any browser.")
    return found


def html_to_pdf(html_text: str, browser: str | None = None, timeout: float = 120.0) -> bytes:
    """Print an HTML document to PDF bytes with headless Chromium (A4, no header/footer)."""
    exe = require_browser(browser)
    with tempfile.TemporaryDirectory(prefix="triage-pdf-") as tmp:
        page, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html_text, encoding="utf-8")
        cmd = [exe, *_FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}",
               page.as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as e:
            raise ExportFailed(f"{exe} did not finish printing the PDF within {timeout:.0f} s") from e
        if not out.exists() or out.stat().st_size == 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise ExportFailed(f"{exe} exited {done.returncode} without a PDF: {' '.join(tail)}")
        return out.read_bytes()
