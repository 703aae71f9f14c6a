"""Langfuse import: the UI's trace download, JSON/JSONL exports of observations, and the live
pull through the real `langfuse` SDK against a local server answering the Observations API."""

from __future__ import annotations

import json
import sys
from urllib.parse import parse_qs, urlparse

import duckdb

from tests.ingest_helpers import cli, count
from tests.test_traces_otlp import roles, stored
from tests.trace_fixtures import ANSWER, DOC, STATUS
from tests.trace_fixtures_saas import langfuse_download, langfuse_observations
from tests.trace_server import PUBLIC_KEY, SECRET_KEY, TraceService, serve


def test_ui_trace_download_becomes_a_transcript_with_trace_metadata(tmp_path, db_path, capsys):
    path = tmp_path / "trace-lf-trace-1.json"
    path.write_text(json.dumps(langfuse_download(), indent=2))
    code, out, _ = cli(capsys, db_path, "import", str(path))
    assert code == 0 and "(langfuse, source 'default')" in out
    [(rid, messages, context, _, meta)] = stored(db_path)
    assert rid == "lf-trace-1"
    assert roles(messages) == ["system", "user", "assistant", "tool", "assistant"]
    assert messages[2]["tool_calls"][0]["function"] == {"name": "get_order",
                                                         "arguments": '{"order_id": 4471}'}
    assert json.loads(messages[3]["content"]) == STATUS and messages[4]["content"] == ANSWER
    assert context == [{"source": "kb/shipping.md", "text": DOC}]
    assert (meta["session_id"], meta["user_id"], meta["tags"]) == ("lf-session-1", "u-7",
                                                                   ["prod", "web"])
    assert (meta["channel"], meta["customer_tier"], meta["release"]) == ("web", "pro", "1.4.2")
    assert meta["scores"] == {"user_feedback": 0} and meta["model"] == "gpt-4o"
    assert (meta["input_tokens"], meta["output_tokens"]) == (250, 30)


def test_observation_export_jsonl_groups_by_trace_and_flags_error_level(tmp_path, db_path,
                                                                         capsys):
    rows = langfuse_observations("t-ok") + langfuse_observations("t-err", 60, fail_tool=True)
    path = tmp_path / "observations.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in rows[::-1]))  # any order
    assert cli(capsys, db_path, "import", str(path))[0] == 0
    by_id = {r[0]: r for r in stored(db_path)}
    assert set(by_id) == {"t-ok", "t-err"}
    failed = by_id["t-err"]
    assert roles(failed[1]) == ["system", "user", "assistant", "tool"]
    assert failed[1][3]["error"] == "get_order: orders service timed out"
    assert failed[4]["errors"] == [{"span": "get_order", "kind": "tool",
                                    "message": "orders service timed out"}]


def test_snake_case_blob_export_and_a_trace_without_generation(tmp_path, db_path, capsys):
    snake = [{"trace_id" if k == "traceId" else "start_time" if k == "startTime" else
              "parent_observation_id" if k == "parentObservationId" else k: v
              for k, v in o.items()} for o in langfuse_observations("t-snake")]
    no_llm = langfuse_observations("t-nollm", with_llm=False)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(snake + no_llm))
    code, out, _ = cli(capsys, db_path, "import", str(path), "--format", "langfuse")
    assert code == 1, out
    assert "trace t-nollm: no LLM call with messages in its 2 span(s) (1 retriever, 1 span: " \
           "'kb-search', 'support')" in out
    assert [r[0] for r in stored(db_path)] == ["t-snake"]


def test_malformed_observation_rejects_its_trace(tmp_path, db_path, capsys):
    rows = langfuse_observations("t-bad")
    rows[2] = {**rows[2], "startTime": "yesterday"}
    path = tmp_path / "o.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in rows + langfuse_observations("t-2")))
    code, out, _ = cli(capsys, db_path, "import", str(path))
    assert code == 1
    assert "trace t-bad: line 3: observation 't-bad-gen1': 'startTime' (an ISO-8601 time) is " \
           "missing or unreadable" in out
    assert count(db_path) == 1


def pull(capsys, db_path, *args):
    return cli(capsys, db_path, "import", "--from", "langfuse", "--until", "2027-01-01", *args)


def test_live_pull_pages_with_the_cursor_and_keeps_a_watermark(tmp_path, db_path, capsys,
                                                              monkeypatch):
    state = TraceService(page_size=2)
    state.observations = langfuse_observations("t-1") + langfuse_observations("t-2", 30)
    with serve(state) as url:
        monkeypatch.setenv("LANGFUSE_HOST", url)
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC_KEY)
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET_KEY)
        code, out, err = pull(capsys, db_path)
        assert code == 0, out + err
        assert "10 observations read, 2 traces" in out and "imported            2" in out
        assert "watermark: newest trace stored started 2026-03-02 09:00:30" in out
        pages = [r for r in state.requests if r["path"].startswith("/api/public/v2/observations")]
        assert len(pages) == 5  # 10 observations, 2 a page: the cursor was followed
        assert all("fields=core%2Cbasic%2Cio" in r["path"] for r in pages)
        # a later trace arrives; the next pull asks from the watermark and imports only it
        state.observations += langfuse_observations("t-3", 90)
        state.requests.clear()
        code, out, _ = pull(capsys, db_path)
        assert code == 0 and "imported            1" in out
        assert "(1 same id and content" in out  # the watermark's own trace, seen again
        assert "fromStartTime=2026-03-02T09%3A00%3A30" in state.requests[0]["path"]
    assert sorted(r[0] for r in stored(db_path)) == ["t-1", "t-2", "t-3"]
    con = duckdb.connect(str(db_path), read_only=True)
    marks = con.execute("SELECT system, source, newest_trace_at::VARCHAR, traces_stored FROM "
                        "pull_watermarks ORDER BY pulled_at").fetchall()
    con.close()
    assert marks == [("langfuse", "default", "2026-03-02 09:00:30", 2),
                     ("langfuse", "default", "2026-03-02 09:01:30", 2)]


def test_live_pull_filters_skip_partial_traces_and_limit(tmp_path, db_path, capsys, monkeypatch):
    state = TraceService(page_size=50)
    state.observations = (langfuse_observations("t-a") + langfuse_observations("t-b", 30)
                          + langfuse_observations("t-c", 60))
    with serve(state) as url:
        monkeypatch.setenv("LANGFUSE_HOST", url)
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC_KEY)
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET_KEY)
        code, out, _ = pull(capsys, db_path, "--since", "2026-03-02T09:00:01Z", "--tag", "prod",
                            "--name", "support", "--limit", "1")
        assert code == 0, out
        assert "skipped 1 incomplete" in out and "skipped 1 over --limit" in out
        sent = json.loads(parse_qs(urlparse(state.requests[0]["path"]).query)["filter"][0])
        assert {c["column"] for c in sent} == {"startTime", "tags", "traceName"}
    assert [r[0] for r in stored(db_path)] == ["t-b"]  # the oldest whole trace in the window


def test_live_pull_secrets_never_echoed_stored_or_logged(tmp_path, db_path, capsys, monkeypatch):
    state = TraceService()
    state.observations = langfuse_observations("t-1")
    log = tmp_path / "triage.log"
    monkeypatch.setenv("TRIAGE_LOG", str(log))
    with serve(state) as url:
        monkeypatch.setenv("LANGFUSE_HOST", url)
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC_KEY)
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-WRONG-999")
        code, out, err = pull(capsys, db_path)
        assert code == 2 and "refused the keys (HTTP 401): check LANGFUSE_PUBLIC_KEY" in err
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET_KEY)
        code, out2, err2 = pull(capsys, db_path)
        assert code == 0
    raw = db_path.read_bytes()
    for secret in ("sk-lf-WRONG-999", SECRET_KEY):
        assert secret not in out + err + out2 + err2 and secret not in log.read_text()
        assert secret.encode() not in raw


def test_live_pull_without_keys_or_sdk_says_what_to_do(db_path, capsys, monkeypatch):
    monkeypatch.delenv("LANGFUSE_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("LANGFUSE_SECRET_KEY", raising=False)
    code, _, err = pull(capsys, db_path)
    assert code == 2 and "needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY" in err
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC_KEY)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setitem(sys.modules, "langfuse.api", None)  # as if the SDK were not installed
    code, _, err = pull(capsys, db_path)
    assert code == 2 and "pip install 'triage[traces]'" in err
    code, _, err = cli(capsys, db_path, "import", "x.jsonl", "--from", "langfuse")
    assert code == 2 and "give no PATH" in err
