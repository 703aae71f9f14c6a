"""LangSmith and OpenAI Responses import: Run JSONL from `langsmith.schemas.Run`, the bulk
export's Parquet, LangChain-serialised messages, the live pull through the real `langsmith`
SDK against a local server; Responses items from the `openai` SDK's models."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from core.ingest.readers import detect_format
from tests.ingest_helpers import cli, count
from tests.test_traces_otlp import roles, stored
from tests.trace_fixtures import ANSWER, DOC, STATUS, SYSTEM
from tests.trace_fixtures_saas import langsmith_runs, responses_line
from tests.trace_server import API_KEY, TraceService, serve


def write_runs(path, runs):
    path.write_text("".join(json.dumps(r) + "\n" for r in runs))
    return path


def test_run_jsonl_with_langchain_messages_becomes_transcripts(tmp_path, db_path, capsys):
    runs = langsmith_runs(1) + langsmith_runs(2, openai_style=True)
    path = write_runs(tmp_path / "runs.jsonl", runs[::-1])  # any order: dotted_order sorts
    assert detect_format(path) == "langsmith"
    code, out, _ = cli(capsys, db_path, "import", str(path))
    assert code == 0, out
    rows = {r[0]: r for r in stored(db_path)}
    lc = rows[runs[0]["trace_id"]]
    assert roles(lc[1]) == ["system", "user", "assistant", "tool", "assistant"]
    assert lc[1][0]["content"] == SYSTEM and lc[1][4]["content"] == ANSWER
    assert lc[1][2]["tool_calls"] == [{"id": "call_1", "type": "function", "function": {
        "name": "get_order", "arguments": '{"order_id": 4471}'}}]
    assert lc[1][3]["tool_call_id"] == "call_1" and json.loads(lc[1][3]["content"]) == STATUS
    assert lc[2] == [{"source": "kb/ship.md", "text": DOC}]
    assert lc[3] == [{"type": "function", "function": {"name": "get_order", "parameters": {}}}]
    meta = lc[4]
    assert (meta["name"], meta["tags"], meta["thread_id"], meta["channel"]) == (
        "support_agent", ["prod"], "thread-1", "web")
    assert meta["model"] == "gpt-4o" and (meta["input_tokens"], meta["output_tokens"]) == (250, 30)
    openai_style = rows[langsmith_runs(2)[0]["trace_id"]]
    assert roles(openai_style[1]) == ["system", "user", "assistant", "tool", "assistant"]


def test_bulk_export_parquet_with_json_text_columns(tmp_path, db_path, capsys):
    runs = langsmith_runs(3, fail_tool=True) + langsmith_runs(4)
    nested = ("inputs", "outputs", "extra", "events", "feedback_stats")
    rows = [{k: json.dumps(v) if k in nested or isinstance(v, dict) else v for k, v in r.items()}
            for r in runs]
    columns = sorted({k for r in rows for k in r})
    table = pa.table({c: [r.get(c) if not isinstance(r.get(c), list) else json.dumps(r[c])
                          for r in rows] for c in columns})
    path = tmp_path / "export.parquet"
    pq.write_table(table, path)
    assert detect_format(path) == "langsmith"
    assert cli(capsys, db_path, "import", str(path))[0] == 0
    by_id = {r[0]: r for r in stored(db_path)}
    failed = by_id[runs[0]["trace_id"]]
    assert roles(failed[1]) == ["system", "user", "assistant", "tool"]
    assert failed[1][3]["error"] == "get_order: TimeoutError('orders service')"
    assert failed[4]["has_error"] is True and len(by_id) == 2


def test_run_without_llm_and_malformed_run_are_rejected_by_name(tmp_path, db_path, capsys):
    tool_only = [r for r in langsmith_runs(5) if r["run_type"] != "llm"]
    broken = langsmith_runs(6)
    broken[2] = {**broken[2], "start_time": None}
    path = write_runs(tmp_path / "runs.jsonl", tool_only + broken + langsmith_runs(7))
    code, out, _ = cli(capsys, db_path, "import", str(path))
    assert code == 1, out
    assert f"trace {tool_only[0]['trace_id']}: no LLM call with messages" in out
    assert f"trace {broken[0]['trace_id']}: line 6: run {broken[2]['id']!r}: 'start_time' " \
           "(an ISO-8601 time) is missing or unreadable" in out
    assert count(db_path) == 1


def test_group_by_session_uses_the_thread_id(tmp_path, db_path, capsys):
    path = write_runs(tmp_path / "runs.jsonl", langsmith_runs(8, thread="t-A")
                      + langsmith_runs(9, thread="t-A") + langsmith_runs(10, thread="t-B"))
    assert cli(capsys, db_path, "import", str(path), "--group-by", "session")[0] == 0
    rows = {r[0]: r for r in stored(db_path)}
    assert set(rows) == {"t-A", "t-B"} and len(rows["t-A"][4]["trace_ids"]) == 2


def test_live_pull_through_the_langsmith_sdk(tmp_path, db_path, capsys, monkeypatch):
    state = TraceService(page_size=3)
    state.runs = langsmith_runs(11) + langsmith_runs(12)
    with serve(state) as url:
        monkeypatch.setenv("LANGSMITH_ENDPOINT", url)
        monkeypatch.setenv("LANGSMITH_API_KEY", API_KEY)
        monkeypatch.setenv("LANGSMITH_PROJECT", "support-prod")
        args = ("import", "--from", "langsmith", "--until", "2027-01-01", "--tag", "prod")
        code, out, err = cli(capsys, db_path, *args)
        assert code == 0, out + err
        assert "10 runs read, 2 traces" in out and "imported            2" in out
        queries = [r["body"] for r in state.requests if r["path"] == "/runs/query"]
        assert len(queries) == 4 and queries[0]["trace_filter"] == 'has(tags, "prod")'
        assert all(API_KEY not in json.dumps(q) for q in queries)
        code, out, _ = cli(capsys, db_path, *args)
        assert code == 0 and "imported            0" in out
        assert [r["body"].get("start_time") for r in state.requests
                if r["path"] == "/runs/query"][-1].startswith("2026-03-02T09:00:00")
        monkeypatch.setenv("LANGSMITH_PROJECT", "nope")
        code, _, err = cli(capsys, db_path, *args)
        assert code == 2 and "has no project 'nope'" in err
    assert count(db_path) == 2


def test_responses_jsonl_and_bare_item_array(tmp_path, db_path, capsys):
    path = tmp_path / "responses.jsonl"
    path.write_text(json.dumps(responses_line("resp_1")) + "\n"
                    + json.dumps(responses_line("resp_2", failed=True)) + "\n")
    assert detect_format(path) == "responses"
    assert cli(capsys, db_path, "import", str(path))[0] == 0
    rows = {r[0]: r for r in stored(db_path)}
    ok, failed = rows["resp_1"], rows["resp_2"]
    assert roles(ok[1]) == ["system", "user", "assistant", "tool", "assistant"]
    assert ok[1][2]["tool_calls"][0]["id"] == "call_1" and ok[1][3]["tool_call_id"] == "call_1"
    assert ok[2] == [{"source": "shipping.md", "text": DOC, "score": 0.7, "id": "file-1"}]
    assert ok[3][0]["function"]["name"] == "get_order"
    assert (ok[4]["response_id"], ok[4]["model"], ok[4]["input_tokens"]) == ("resp_1", "gpt-4o", 80)
    assert failed[1][-1] == {"role": "assistant", "content": "",
                             "error": "response resp_2: The model failed"}
    bare = tmp_path / "items.json"
    bare.write_text(json.dumps(responses_line("resp_3")["input"], indent=1))
    assert detect_format(bare) == "responses"
    code, out, _ = cli(capsys, db_path, "import", str(bare))
    assert code == 0 and count(db_path) == 3


def test_responses_malformed_item_is_rejected_with_its_line(tmp_path, db_path, capsys):
    bad = responses_line("resp_9")
    bad["input"][1] = "not an item"
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(bad) + "\n" + json.dumps(responses_line("resp_8")) + "\n")
    code, out, _ = cli(capsys, db_path, "import", str(path), "--format", "responses")
    assert code == 1 and "trace resp_9: line 1: 'input'[1] is not a Responses item" in out


def test_langsmith_key_never_reaches_output_log_or_database(tmp_path, db_path, capsys,
                                                             monkeypatch):
    from tests.browser_helpers import free_port

    log = tmp_path / "triage.log"
    monkeypatch.setenv("TRIAGE_LOG", str(log))
    monkeypatch.setenv("LANGSMITH_API_KEY", API_KEY)
    monkeypatch.setenv("LANGSMITH_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nobody there
    monkeypatch.setenv("LANGSMITH_PROJECT", "support-prod")
    code, out, err = cli(capsys, db_path, "import", "--from", "langsmith")
    assert code == 2 and "LangSmith at http://127.0.0.1:" in err
    state = TraceService()
    state.runs = langsmith_runs(13)
    with serve(state) as url:
        monkeypatch.setenv("LANGSMITH_ENDPOINT", url)
        code, out2, err2 = cli(capsys, db_path, "import", "--from", "langsmith", "--until",
                               "2027-01-01")
        assert code == 0
    text = out + err + out2 + err2 + log.read_text()
    assert API_KEY not in text and API_KEY[-6:] not in text and "API Key" not in text
    assert API_KEY.encode() not in db_path.read_bytes()
