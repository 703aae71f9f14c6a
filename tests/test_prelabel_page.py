"""The Pre-label page in Streamlit's AppTest: what the reviewer sees and the rows in DuckDB."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.db import connect
from core.storage.categories import register_taxonomy
from tests.conftest import ROOT, add_transcripts, make_record
from tests.prelabel_helpers import add_labels, synthetic_records

PAGE = str(ROOT / "pages" / "prelabel.py")


@pytest.fixture
def page_env(monkeypatch, db_path, tmp_path, taxonomy):
    for var in ("OPENAI_API_KEY", "TRIAGE_LLM_BASE_URL", "TRIAGE_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TRIAGE_DB", str(db_path))
    monkeypatch.setenv("TRIAGE_USER", "ana")
    monkeypatch.setenv("TRIAGE_LOG", str(tmp_path / "triage.log"))
    monkeypatch.setenv("TRIAGE_LLM_MAX_RETRIES", "0")
    db = connect(db_path)
    register_taxonomy(db, taxonomy)
    add_transcripts(db, [make_record(i) for i in range(4)])
    return db


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [i.value for i in at.info]
                     + [s.value for s in at.success] + [w.value for w in at.warning])


def prelabel_rows(db):
    return db.con.execute("SELECT labeler, status, primary_label, model FROM prelabels "
                          "ORDER BY transcript_id").fetchall()


def test_offline_run_without_key(page_env):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert "no OPENAI_API_KEY in the app's environment and no base URL" in texts(at)
    assert at.radio[0].value == "Offline" and at.radio[0].disabled
    assert "4 transcript(s) to pre-label, 0 already done (cached, no request)" in texts(at)
    at.button[0].click().run()  # Start
    assert not at.exception
    assert "done: 4 labeled, 0 cached, 0 failed" in texts(at)
    assert "0 transcript(s) to pre-label, 4 already done (cached, no request)" in texts(at)
    rows = prelabel_rows(page_env)
    assert len(rows) == 4 and {r[:2] for r in rows} == {("offline", "ok")}


def test_llm_run_against_local_server_shows_failures(page_env, llm_server, monkeypatch):
    monkeypatch.setenv("TRIAGE_LLM_BASE_URL", llm_server.base_url)
    llm_server.state.script = [("ok", "escalation"), ("500",)]
    llm_server.state.default = lambda body: ("ok", "reasoning")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert at.radio[0].value == "LLM" and not at.radio[0].disabled
    at.number_input[1].set_value(1)  # concurrency 1: the script's order is the request order
    at.run()
    assert "estimated:" in texts(at)
    at.button[0].click().run()
    assert not at.exception
    assert "done: 3 labeled, 0 cached, 1 failed" in texts(at)
    assert "failed ×1: HTTP 500 after 0 retries" in texts(at)
    assert at.dataframe[0].value.to_dict("records") == [
        {"reason": "HTTP 500 after 0 retries", "transcripts": 1}]
    rows = prelabel_rows(page_env)
    assert [r[:3] for r in rows] == [("llm", "ok", "escalation"), ("llm", "failed", None),
                                     ("llm", "ok", "reasoning"), ("llm", "ok", "reasoning")]
    assert llm_server.state.count == 4


def test_evaluation_panel(page_env, taxonomy):
    pairs = synthetic_records(taxonomy, 45, noise=0.0)
    add_transcripts(page_env, [r for r, _ in pairs])
    add_labels(page_env, taxonomy, [(r["id"], lab) for r, lab in pairs])
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.radio(key="eval_labeler").set_value("Offline")
    at.button[2].click().run()  # Evaluate
    assert not at.exception
    assert at.metric[0].value == "45"
    assert float(at.metric[1].value) > 0.8
    assert "5-fold cross-validation over 45 human labels" in at.caption[-1].value
    per_cat = at.dataframe[0].value
    assert list(per_cat.columns) == ["category", "precision", "recall", "support"]
    assert per_cat["support"].sum() == 45


def test_page_is_thin():
    source = Path(PAGE).read_text(encoding="utf-8")
    for forbidden in ("import duckdb", "import openai", "from openai", "SELECT ", "INSERT "):
        assert forbidden not in source
    body = [node for node in ast.parse(source).body
            if not isinstance(node, ast.Import | ast.ImportFrom | ast.Expr)]
    assert ast.unparse(body[0]) == "ctx = bootstrap('Pre-label')"  # the first statement


def test_base_url_typed_on_page_enables_the_llm(page_env, llm_server):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert at.radio[0].value == "Offline" and at.radio[0].disabled
    at.text_input[0].set_value(llm_server.base_url).run()
    assert at.radio[0].value == "LLM" and not at.radio[0].disabled
    at.button[0].click().run()
    assert not at.exception
    assert "done: 4 labeled, 0 cached, 0 failed" in texts(at)
    assert llm_server.state.count == 4
    assert {r[0] for r in prelabel_rows(page_env)} == {"llm"}
