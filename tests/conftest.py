"""Shared fixtures: a real DuckDB file in tmp_path, the default taxonomy, transcripts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.ingest.records import prepare, transcript_columns
from core.store.categories import register_taxonomy
from core.store.connection import Database, connect, utcnow
from core.store.transcripts import insert_transcripts
from core.taxonomy import Taxonomy, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
IN_CI = bool(os.environ.get("CI"))


def require_or_skip(condition: bool, reason: str) -> None:
    """Skip with a reason on a developer machine; fail under CI, where it must be present."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def shared_data() -> Path:
    require_or_skip(SHARED_DATA.is_dir(), f"{SHARED_DATA} is absent (a user's clone has no shared/)")
    return SHARED_DATA


@pytest.fixture
def chromium_path() -> str:
    path = "/usr/bin/chromium"
    require_or_skip(Path(path).exists(), "Debian chromium is not installed (apt-get install -y chromium)")
    return path


@pytest.fixture
def pdftoppm_path() -> str:
    path = shutil.which("pdftoppm")
    require_or_skip(path is not None, "pdftoppm is not installed (apt-get install -y poppler-utils)")
    return path  # type: ignore[return-value]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "triage.duckdb"


@pytest.fixture
def taxonomy() -> Taxonomy:
    return load_taxonomy("default")


@pytest.fixture
def db(db_path: Path, taxonomy: Taxonomy):
    database = connect(db_path)
    register_taxonomy(database, taxonomy)
    yield database
    database.close()


def make_record(i: int | str, text: str = "How do I reset my password?", **extra) -> dict:
    """A small valid transcript record."""
    rec = {
        "id": f"t{i}" if isinstance(i, int) else i,
        "messages": [
            {"role": "system", "content": "You are a support assistant."},
            {"role": "user", "content": f"{text} (#{i})"},
            {"role": "assistant", "content": "Go to Settings → Security and click Reset."},
        ],
        "metadata": {"channel": "web" if isinstance(i, int) and i % 2 else "email"},
    }
    rec.update(extra)
    return rec


def add_transcripts(db: Database, records: list[dict], source: str = "test",
                    batch_id: str | None = None) -> list[str]:
    """Store records under their own ids, without an import's validation, duplicate checks or
    batch row, for tests of other modules."""
    rows = [prepare(r) for r in records]
    ids = [p.record_id for p in rows]
    insert_transcripts(db, transcript_columns(rows, ids, source, batch_id, utcnow()))
    return ids


@pytest.fixture
def llm_server():
    """A real OpenAI-compatible server on 127.0.0.1 (tests/llm_server.py); program its
    behaviours with `.state.script` / `.state.default`, read `.state.requests`."""
    from tests.llm_server import LLMServer

    with LLMServer() as server:
        yield server


def pytest_sessionfinish(session, exitstatus):
    from tests.annotate_helpers import close_open_databases

    close_open_databases()
