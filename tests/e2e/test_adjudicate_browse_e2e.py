"""Adjudicate and Browse in headless Chromium: adjudicate a disagreement by keyboard, browse the result."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.taxonomy import load_taxonomy
from tests.browser_helpers import CHROMIUM_ARGS, free_port, wait_healthy
from tests.conftest import require_or_skip
from tests.seed_helpers import ROOT, seed_disagreements

CHROMIUM = "/usr/bin/chromium"
DEMO_FILE = ROOT / "core" / "demo" / "transcripts.jsonl"
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
pytestmark = pytest.mark.browser


class Server:
    """`streamlit run triage_app.py` on a free port over a seeded tmp database."""

    def __init__(self, db_path: Path, user: str | None, extra: tuple[str, ...] = (),
                 port: int | None = None) -> None:
        port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "TRIAGE_DB": str(db_path), "TRIAGE_USER": user or "",
               "TRIAGE_LOG": str(db_path.parent / "triage.log")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "triage_app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", *extra],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_healthy(self.proc, self.url)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    require_or_skip(Path(CHROMIUM).exists(), "Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def seed_db(tmp_path: Path) -> Path:
    db_path = tmp_path / "e2e.duckdb"
    db, taxonomy = connect(db_path), load_taxonomy()
    register_taxonomy(db, taxonomy)
    seed_disagreements(db, taxonomy)
    db.close()
    return db_path


@pytest.fixture
def seeded_server(tmp_path):
    db_path = seed_db(tmp_path)
    server = Server(db_path, "lead")
    yield server, db_path
    if server.proc.poll() is None:
        server.stop()


def test_adjudicate_by_keyboard_browse_and_import_the_demo_file(browser, seeded_server):
    from playwright.sync_api import expect

    server, db_path = seeded_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server.url}/adjudicate")
    expect(page.get_by_text("2 open disagreements")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Note: retriever got the FAQ")).to_be_visible()
    expect(page.get_by_role("button", name="Missing knowledge")).to_be_visible()
    expect(page.get_by_text("How do I reset my password? (#0)")).to_be_visible()
    page.screenshot(path=str(SHOTS / "adjudicate_before.png"), full_page=True)
    note = page.get_by_label("Note (why this label)")
    note.fill("KB lacks the reset page")
    note.press("Enter")
    page.get_by_role("heading", name="Adjudicate").click()  # focus out of the text field
    page.keyboard.press("1")  # missing_knowledge
    expect(page.get_by_text("t0: adjudicated as Missing knowledge.")).to_be_visible()
    expect(page.get_by_text("1 open disagreement ·")).to_be_visible()
    expect(page.get_by_text("How do I reset my password? (#1)")).to_be_visible()
    expect(page.get_by_role("button", name="Schema / format")).to_be_visible()
    expect(note).to_have_value("")
    page.screenshot(path=str(SHOTS / "adjudicate_after.png"), full_page=True)
    page.goto(f"{server.url}/browse")
    expect(page.get_by_text("6 transcripts · page 1 of 1")).to_be_visible(timeout=30_000)
    page.get_by_role("combobox", name="Status").click()
    page.get_by_role("option", name="adjudicated", exact=True).click()
    expect(page.get_by_text("1 transcript · page 1 of 1")).to_be_visible()
    expect(page.locator("[data-testid=stDataFrame] canvas").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "browse.png"), full_page=True)
    page.goto(f"{server.url}/settings")
    expect(page.get_by_text("everyone", exact=False).first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Save redact_patterns")).to_be_visible()
    page.screenshot(path=str(SHOTS / "settings.png"), full_page=True)
    page.goto(f"{server.url}/admin")
    expect(page.get_by_role("button", name="Archive")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "admin.png"), full_page=True)
    _import_demo_file(page, server)
    server.stop()
    db = connect(db_path, read_only=True)
    assert db.con.execute("SELECT transcript_id, annotator, primary_label, note FROM annotations "
                          "WHERE kind = 'adjudication'").fetchall() == [
        ("t0", "lead", "missing_knowledge", "KB lacks the reset page")]
    assert db.con.execute("SELECT status FROM final_labels WHERE transcript_id = 't0'"
                          ).fetchone() == ("adjudicated",)
    assert db.con.execute("SELECT file_name, source, rows_imported, imported_by FROM "
                          "import_batches WHERE batch_id <> 'b1'").fetchall() == [
        ("transcripts.jsonl", "demo-upload", 300, "lead")]
    assert db.con.execute("SELECT count(*) FROM transcripts WHERE source = 'demo-upload'"
                          ).fetchone() == (300,)
    db.close()


def _import_demo_file(page, server: Server) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/import")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(DEMO_FILE))
    expect(page.get_by_text("first 20 rows: 20 valid, 0 with errors")).to_be_visible(timeout=30_000)
    source = page.get_by_role("textbox", name="Source")
    source.fill("demo-upload")
    source.press("Enter")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported, nothing rejected. (exit code 0)")).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text("rows read         300")).to_be_visible()
    page.get_by_text("rows read         300").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "import.png"))


def test_oidc_login_identity_replaces_the_typed_name(browser, tmp_path):
    from playwright.sync_api import expect

    require_or_skip(importlib.util.find_spec("authlib") is not None,
                    "Authlib is not installed (st.login needs it: pip install -e '.[test]')")
    from tests.oidc_stub import OIDCStub

    db_path, port = seed_db(tmp_path), free_port()
    with OIDCStub("rev@example.com") as stub:
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "test-cookie-secret-0123456789"\n'
            'client_id = "triage"\nclient_secret = "stub-secret"\n'
            f'server_metadata_url = "{stub.issuer}/.well-known/openid-configuration"\n')
        server = Server(db_path, None, ("--secrets.files", str(secrets)), port=port)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{server.url}/")
            expect(page.get_by_role("heading", name="Log in to Triage")).to_be_visible(
                timeout=30_000)
            expect(page.get_by_role("button", name="Log in")).to_be_visible()
            page.screenshot(path=str(SHOTS / "oidc_login.png"))
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_text("Reviewer: rev@example.com")).to_be_visible(timeout=30_000)
            page.goto(f"{server.url}/adjudicate")
            expect(page.get_by_text("adjudicating as rev@example.com")).to_be_visible(
                timeout=30_000)
            expect(page.get_by_role("button", name="Wrong retrieval")).to_be_visible()
            page.get_by_role("heading", name="Adjudicate").click()
            page.keyboard.press("2")  # wrong_retrieval
            expect(page.get_by_text("t0: adjudicated as Wrong retrieval.")).to_be_visible()
            expect(page.get_by_text("transcript t1")).to_be_visible()
            expect(page.get_by_role("button", name="Schema / format")).to_be_visible()
            page.screenshot(path=str(SHOTS / "oidc_adjudicated.png"))
        finally:
            server.stop()
        assert {"/authorize", "/token", "/jwks"} <= set(stub.requests)
    db = connect(db_path, read_only=True)
    assert db.con.execute("SELECT annotator, primary_label FROM annotations "
                          "WHERE kind = 'adjudication'").fetchall() == [
        ("rev@example.com", "wrong_retrieval")]
    db.close()
