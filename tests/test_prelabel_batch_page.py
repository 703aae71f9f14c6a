"""The Pre-label page's Batch API choice in Streamlit's AppTest, against the local server:
batch prices before sending, Start sends the batches, Check batches stores the answers."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.store.prelabel_batches import batch_runs
from tests.test_prelabel_page import PAGE, button, finish_run, page_env, prelabel_rows, texts

__all__ = ["page_env"]  # the fixture, shared with the page's other tests


def test_batch_api_choice_sends_then_checks(page_env, llm_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-page-test")
    monkeypatch.setenv("TRIAGE_LLM_BASE_URL", llm_server.base_url)
    llm_server.state.batch.polls_in_progress = 0
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    send = next(r for r in at.radio if r.label == "Send")
    assert send.options == ["Now", "Batch API: half price, answers within 24 h"]
    send.set_value("Batch API: half price, answers within 24 h").run()
    assert not at.exception
    assert "note: Batch API prices (half of price_table['gpt-4o-mini'])" in texts(at)
    assert "4 transcripts to pre-label" in texts(at)
    button(at, "Start").click().run()
    finish_run(at, page_env)
    assert not at.exception
    assert "1 of 1 batches not collected yet" in texts(at)
    run = batch_runs(page_env)[0]
    assert (run.n_requests, run.created_by, run.base_url) == (4, "ana", llm_server.base_url)
    assert prelabel_rows(page_env) == []
    button(at, "Check batches").click().run()
    finish_run(at, page_env)
    assert not at.exception
    assert "collected: 4 stored from the batches, 0 retried synchronously" in texts(at)
    assert "this check: 4 pre-labels stored, 0 failed · cost $0.0004" in texts(at)  # 4 × $0.00009
    assert [r[:2] for r in prelabel_rows(page_env)] == [("llm", "ok")] * 4
    assert [r["path"] for r in llm_server.state.requests] == []  # nothing sent synchronously
