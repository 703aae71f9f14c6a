"""The Pre-label page in Streamlit's AppTest: what the reviewer sees and the rows in DuckDB."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.prelabel.describe import evaluation_caption
from core.prelabel.jobs import PrelabelJob
from core.prelabel.run import prelabel_offline_all
from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.store.settings import set_setting
from tests.conftest import ROOT, add_transcripts, make_record
from tests.prelabel_helpers import add_labels, synthetic_records

PAGE = str(ROOT / "pages" / "prelabel.py")


@pytest.fixture
def page_env(monkeypatch, db_path, tmp_path, taxonomy):
    for var in ("OPENAI_API_KEY", "TRIAGE_LLM_BASE_URL", "OPENAI_BASE_URL", "TRIAGE_LLM_MODEL"):
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


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def finish_run(at: AppTest, db) -> AppTest:
    """Let the page's run end, then rerun the page as its progress poll does in a browser."""
    job = PrelabelJob.running(db)
    assert job is None or job.wait(30)
    return at.run()


def wait_for_requests(server, n: int) -> None:
    """Until the local LLM server has received n requests (bounded, not a timing assert)."""
    deadline = time.monotonic() + 30
    while server.state.count < n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.state.count == n


def prelabel_rows(db):
    return db.con.execute("SELECT labeler, status, primary_label, model FROM prelabels "
                          "ORDER BY transcript_id").fetchall()


def test_offline_run_without_key(page_env):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert "no OPENAI_API_KEY in the app's environment and no base URL" in texts(at)
    assert at.radio[0].value == "Offline" and at.radio[0].disabled
    assert "4 transcripts to pre-label, 0 already done (cached, no request)" in texts(at)
    for label in ("Concurrency", "Spend cap, USD (0 = none)"):
        box = next(n for n in at.number_input if n.label == label)
        assert box.disabled and box.help == "The offline labeler runs locally: no requests, no cost."
    at.button[0].click().run()  # Start
    finish_run(at, page_env)
    assert not at.exception
    assert "done: 4 labeled, 0 cached, 0 failed" in texts(at)
    assert "0 transcripts to pre-label, 4 already done (cached, no request)" in texts(at)
    rows = prelabel_rows(page_env)
    assert len(rows) == 4 and {r[:2] for r in rows} == {("offline", "ok")}


def test_llm_run_against_local_server_shows_failures(page_env, llm_server, monkeypatch):
    monkeypatch.setenv("TRIAGE_LLM_BASE_URL", llm_server.base_url)
    llm_server.state.script = [("ok", "escalation"), ("500",)]
    llm_server.state.default = lambda body: ("ok", "reasoning")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert at.radio[0].value == "LLM" and not at.radio[0].disabled
    assert at.radio(key="eval_labeler").value == "Offline"  # no LLM pre-label yet
    assert not at.number_input[1].disabled and not at.number_input[2].disabled
    at.number_input[1].set_value(1)  # concurrency 1: the script's order is the request order
    at.run()
    assert "estimated:" in texts(at)
    at.button[0].click().run()
    finish_run(at, page_env)
    assert not at.exception
    assert "done: 3 labeled, 0 cached, 1 failed" in texts(at)
    assert "failed ×1: HTTP 500 after 0 retries" in texts(at)
    assert at.dataframe[0].value.to_dict("records") == [
        {"reason": "HTTP 500 after 0 retries", "transcripts": 1}]
    rows = prelabel_rows(page_env)
    assert [r[:3] for r in rows] == [("llm", "ok", "escalation"), ("llm", "failed", None),
                                     ("llm", "ok", "reasoning"), ("llm", "ok", "reasoning")]
    assert llm_server.state.count == 4
    assert at.radio(key="eval_labeler").value == "LLM"  # now the LLM has data


def test_evaluation_panel(page_env, taxonomy):
    pairs = synthetic_records(taxonomy, 45, noise=0.0)
    add_transcripts(page_env, [r for r, _ in pairs])
    add_labels(page_env, taxonomy, [(r["id"], lab) for r, lab in pairs])
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.radio(key="eval_labeler").set_value("Offline")
    at.button[2].click().run()  # Evaluate
    assert not at.exception
    assert at.metric[0].value == "45"
    assert at.metric[1].value.endswith("%") and int(at.metric[1].value[:-1]) > 80
    caption = at.caption[-1].value
    assert caption.startswith("Offline labeler (trained on n=45:")
    assert "5-fold cross-validation over 45 human labels" in caption
    assert caption.endswith("left out: 0 labeled with the pre-label shown")  # no few-shot offline
    per_cat = at.dataframe[0].value
    assert list(per_cat.columns) == ["Category", "Precision", "Recall", "Support"]
    names = [c.name for c in taxonomy.categories]
    assert list(per_cat["Category"]) == names
    assert all(len(x) == 4 and x[1] == "." for x in [*per_cat["Precision"], *per_cat["Recall"]])
    assert sum(int(x) for x in per_cat["Support"]) == 45
    confusion = at.dataframe[1].value
    assert list(confusion.columns) == names
    assert list(confusion.index) == [f"human: {n}" for n in names]
    assert all(x.endswith("%") for x in at.dataframe[2].value["Accuracy"])


def test_evaluation_defaults_to_offline_when_only_offline_prelabels(page_env, taxonomy):
    pairs = synthetic_records(taxonomy, 20, noise=0.0)
    add_transcripts(page_env, [r for r, _ in pairs])
    add_labels(page_env, taxonomy, [(r["id"], lab) for r, lab in pairs])
    assert prelabel_offline_all(page_env, taxonomy).done == 24
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert at.radio(key="eval_labeler").value == "Offline"
    button(at, "Evaluate").click().run()
    assert not at.exception
    assert "Nothing to evaluate yet" not in texts(at)
    assert at.metric[0].value == "20"


def test_evaluation_keeps_the_labeler_the_reviewer_picked(page_env):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.radio(key="eval_labeler").set_value("LLM").run()
    at.run()
    assert at.radio(key="eval_labeler").value == "LLM"


def test_evaluation_caption_of_the_llm_names_the_model_and_few_shot():
    r = {"labeler": "llm", "model": "gpt-4o-mini", "method": "latest LLM pre-label",
         "n_excluded_shown": 3, "n_excluded_few_shot": 2}
    assert evaluation_caption(r) == ("LLM pre-labels from gpt-4o-mini · latest LLM pre-label · "
                                     "left out: 3 labeled with the pre-label shown, 2 few-shot examples")


def test_stop_is_disabled_when_nothing_runs(page_env):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert button(at, "Stop the run").disabled
    assert button(at, "Stop the run").help == "Nothing is running."
    assert not at.warning


def test_stop_during_a_run_stores_what_is_in_flight_and_says_so_once(page_env, llm_server,
                                                                      monkeypatch):
    monkeypatch.setenv("TRIAGE_LLM_BASE_URL", llm_server.base_url)
    llm_server.state.hold_after(1)  # the second answer waits until the test has pressed Stop
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.number_input[1].set_value(1).run()  # concurrency 1
    button(at, "Start").click().run()
    wait_for_requests(llm_server, 2)
    at.run()  # what the progress poll draws
    assert button(at, "Start").disabled and not button(at, "Stop the run").disabled
    assert at.get("progress")[0].proto.text == "1 of 4"
    button(at, "Stop the run").click().run()
    assert "Stopping: storing the answers still in flight…" in [c.value for c in at.caption]
    assert button(at, "Stop the run").disabled  # asked once
    llm_server.state.release.set()
    finish_run(at, page_env)
    assert not at.exception
    assert "Stopped. Finished pre-labels are kept; Start resumes where it ended." in texts(at)
    assert "done: 2 labeled, 0 cached, 0 failed, 2 not started" in texts(at)
    assert "2 transcripts to pre-label, 2 already done (cached, no request)" in texts(at)
    assert button(at, "Stop the run").disabled and not button(at, "Start").disabled
    assert [r[:2] for r in prelabel_rows(page_env)] == [("llm", "ok")] * 2
    at.run()
    assert not at.warning  # said once
    assert llm_server.state.count == 2


def test_a_second_tab_sees_the_run_and_cannot_start_another(page_env, llm_server, monkeypatch):
    monkeypatch.setenv("TRIAGE_LLM_BASE_URL", llm_server.base_url)
    llm_server.state.hold_after(0)
    first = AppTest.from_file(PAGE, default_timeout=30).run()
    first.number_input[1].set_value(1).run()
    button(first, "Start").click().run()
    wait_for_requests(llm_server, 1)
    second = AppTest.from_file(PAGE, default_timeout=30).run()  # another browser tab
    assert button(second, "Start").disabled and not button(second, "Stop the run").disabled
    assert second.get("progress")[0].proto.text == "0 of 4"
    button(second, "Stop the run").click().run()
    llm_server.state.release.set()
    finish_run(second, page_env)
    assert "done: 1 labeled, 0 cached, 0 failed, 3 not started" in texts(second)
    assert llm_server.state.count == 1  # nothing sent twice, nothing sent after the stop
    first.run()
    assert "done: 1 labeled, 0 cached, 0 failed, 3 not started" in texts(first)


def test_page_is_thin():
    source = Path(PAGE).read_text(encoding="utf-8")
    for forbidden in ("import duckdb", "import openai", "from openai", "SELECT ", "INSERT "):
        assert forbidden not in source
    body = [node for node in ast.parse(source).body
            if not isinstance(node, ast.Import | ast.ImportFrom | ast.Expr)]
    assert ast.unparse(body[0]) == "ctx = bootstrap('Pre-label')"  # the first statement


def test_admins_base_url_setting_enables_the_llm_without_the_environments_key(
        page_env, llm_server, monkeypatch):
    # The key is configured for OpenAI (no base URL in the environment); the admin's setting
    # names another server: it gets the requests, never the key. The page has no URL field.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-team-secret")
    set_setting(page_env, "llm_base_url", llm_server.base_url.replace("://", "://u:pw@"), "ana")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not [t for t in at.text_input if "URL" in t.label]
    assert at.radio[0].value == "LLM" and not at.radio[0].disabled
    shown = "\n".join(c.value for c in at.caption)
    assert "://***@127.0.0.1" in shown and "u:pw" not in shown
    assert "OPENAI_API_KEY is configured for https://api.openai.com/v1, so it is not sent" in shown
    at.button[0].click().run()
    finish_run(at, page_env)
    assert not at.exception
    assert "done: 4 labeled, 0 cached, 0 failed" in texts(at)
    assert llm_server.state.count == 4
    sent = [str(v) for r in llm_server.state.requests for v in r["headers"].values()]
    assert not [v for v in sent if "sk-team-secret" in v]  # the URL's own user:pw is Basic auth
    log = (page_env.path.parent / "triage.log").read_text()
    assert "u:pw" not in log and "***@127.0.0.1" in log

