"""The exported HTML opened in headless Chromium (no network, injected HTML inert, charts drawn)
and the PDF printed by Chromium, rasterised with pdftoppm."""

import subprocess
from datetime import datetime

import pytest

from core.report.build import build_report
from core.report.pdf import html_to_pdf
from core.report.render import render_html
from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.taxonomy import load_taxonomy
from tests.browser_helpers import CHROMIUM_ARGS
from tests.test_report_render import IMG, SCRIPT, hostile_set


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The hostile set's report as an HTML file (built once for this module)."""
    folder = tmp_path_factory.mktemp("report")
    taxonomy = load_taxonomy("default")
    db = connect(folder / "t.duckdb")
    register_taxonomy(db, taxonomy)
    hostile_set(db, taxonomy)
    report = build_report(db, taxonomy, slice_fields=["channel"],
                          generated_at=datetime(2026, 3, 3, 12))
    db.close()
    page = folder / "report.html"
    page.write_text(render_html(report, taxonomy), encoding="utf-8")
    return page


@pytest.mark.browser
def test_html_report_opens_offline_and_injected_html_stays_text(exported, chromium_path):
    from playwright.sync_api import sync_playwright

    dialogs, requests, errors = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 900, "height": 1200})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(exported.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg")
        body = page.inner_text("body")
        pwned = page.evaluate("window.__pwned")
        charts = page.locator(".js-plotly-plot").count()
        page.screenshot(path=str(exported.with_suffix(".png")), full_page=True)
        browser.close()
    assert dialogs == [] and pwned is None and errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert SCRIPT in body and IMG in body  # shown as text
    assert charts == 3  # fix classes, categories, the cost panel
    assert "Fix classes" in body and "Readiness for fine-tuning" in body


@pytest.mark.browser
def test_pdf_is_printed_by_chromium_and_rasterises(exported, chromium_path, pdftoppm_path):
    pdf = exported.with_suffix(".pdf")
    pdf.write_bytes(html_to_pdf(exported.read_text(encoding="utf-8"), browser=chromium_path))
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run([pdftoppm_path, "-r", "60", "-png", str(pdf), str(exported.parent / "page")],
                   check=True, timeout=60)
    pages = sorted(exported.parent.glob("page-*.png"))
    assert 2 <= len(pages) <= 8
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          timeout=60).stdout if _has("pdftotext") else None
    if text is not None:
        assert "Triage report" in text and "Fix classes" in text and "<script>" in text


def _has(tool):
    import shutil

    return shutil.which(tool) is not None
