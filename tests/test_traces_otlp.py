"""OTLP JSON import: spans written by the real OpenTelemetry SDK (GenAI semconv current and
indexed forms, OpenInference), through the real CLI into a real DuckDB file."""

from __future__ import annotations

import base64
import json

import duckdb
import pytest

from core.ingest.readers import detect_format
from core.ingest.traces.grouping import SpillGrouper
from core.ingest.traces.reader import read_traces
from tests.ingest_helpers import cli, count
from tests.trace_fixtures import (
    ANSWER,
    DOC,
    QUESTION,
    STATUS,
    SYSTEM,
    genai_indexed_trace,
    genai_support_trace,
    openinference_trace,
    otlp_json_lines,
    otlp_proto_dict,
    record_spans,
    write_jsonl,
)


def stored(db_path, sql="SELECT record_id, messages, context, tools, metadata FROM transcripts "
                        "ORDER BY imported_at, record_id"):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    return [(r[0], *[json.loads(c) if c else None for c in r[1:]]) for r in rows]


def roles(messages):
    return [m["role"] for m in messages]


def test_genai_trace_becomes_one_transcript_with_tool_call_result_and_context(tmp_path, db_path,
                                                                               capsys):
    spans = record_spans(genai_support_trace)
    path = write_jsonl(tmp_path / "traces.jsonl", [otlp_json_lines(spans)])
    assert detect_format(path) == "otlp"
    code, out, _ = cli(capsys, db_path, "import", str(path))
    assert code == 0, out
    assert "(otlp, source 'default')" in out and "imported            1" in out
    [(rid, messages, context, tools, meta)] = stored(db_path)
    assert rid == format(spans[0].context.trace_id, "032x")
    assert roles(messages) == ["system", "user", "assistant", "tool", "assistant"]
    assert messages[0]["content"] == SYSTEM and messages[1]["content"] == QUESTION
    assert messages[2]["tool_calls"] == [{"id": "call_1", "type": "function", "function": {
        "name": "get_order", "arguments": '{"order_id": 4471}'}}]
    assert messages[3]["tool_call_id"] == "call_1" and json.loads(messages[3]["content"]) == STATUS
    assert messages[4]["content"] == ANSWER
    assert context == [{"source": "kb/shipping.md", "text": DOC, "score": 0.91}]
    assert tools[0]["function"]["name"] == "get_order"
    assert meta["service"] == "support-bot" and meta["model"] == "gpt-4o"
    assert meta["session_id"] == "conv-1" and meta["agent"] == "support"
    assert (meta["llm_calls"], meta["tool_runs"], meta["retrievals"]) == (2, 1, 1)
    assert (meta["input_tokens"], meta["output_tokens"]) == (280, 32)
    assert meta["has_error"] is False and meta["conventions"] == ["genai"]


def test_base64_ids_from_the_proto_encoder_give_the_same_transcript(tmp_path, db_path, capsys):
    spans = record_spans(genai_support_trace)
    hex_file = write_jsonl(tmp_path / "hex.jsonl", [otlp_json_lines(spans)])
    proto = otlp_proto_dict(spans)
    assert proto["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"].endswith("==")
    b64_file = tmp_path / "b64.json"
    b64_file.write_text(json.dumps(proto, indent=2))  # one pretty-printed OTLP/HTTP body
    assert cli(capsys, db_path, "import", str(hex_file))[0] == 0
    code, out, _ = cli(capsys, db_path, "import", str(b64_file))
    assert code == 0 and "(1 same id and content" in out
    assert count(db_path) == 1  # re-import is idempotent: trace id → transcript id


def test_one_traces_spans_on_lines_far_apart_are_grouped(tmp_path, db_path, capsys):
    first = record_spans(genai_support_trace)
    second = record_spans(lambda t: genai_support_trace(t, "conv-2", question="Refund please"))
    lines = [otlp_json_lines([s]) for s in first] + [otlp_json_lines(second)]
    lines = lines[::2] + lines[1::2]  # interleave: one trace's spans scattered over the file
    path = write_jsonl(tmp_path / "scattered.jsonl", lines)
    assert cli(capsys, db_path, "import", str(path))[0] == 0
    rows = stored(db_path)
    assert len(rows) == 2 and all(len(r[1]) == 5 for r in rows)


def test_spill_to_disk_gives_the_same_records_as_memory(tmp_path, monkeypatch):
    traces = [record_spans(lambda t, i=i: genai_support_trace(t, f"c{i}")) for i in range(12)]
    lines = [otlp_json_lines([s]) for spans in traces for s in spans]
    path = write_jsonl(tmp_path / "many.jsonl", lines[::3] + lines[1::3] + lines[2::3])
    in_memory = {r.value["id"]: r.value for r in read_traces(path, "otlp")}
    spills = []
    original = SpillGrouper.__init__

    def tiny(self, budget=0, buckets=4, folder=None):  # spill on the first item
        original(self, 1, 4, tmp_path)
        spills.append(self)

    monkeypatch.setattr(SpillGrouper, "__init__", tiny)
    spilled = {r.value["id"]: r.value for r in read_traces(path, "otlp")}
    assert spills[0].spilled and spilled == in_memory and len(spilled) == 12
    assert not list(tmp_path.glob("triage-spill-*"))  # the spill files are removed


def test_indexed_genai_form_with_openllmetry_tool_span(tmp_path, db_path, capsys):
    path = write_jsonl(tmp_path / "old.jsonl", [otlp_proto_dict(record_spans(genai_indexed_trace))])
    assert cli(capsys, db_path, "import", str(path))[0] == 0
    [(_, messages, _, _, meta)] = stored(db_path)
    assert roles(messages) == ["system", "user", "assistant", "tool"]
    assert messages[2]["tool_calls"][0]["function"]["name"] == "get_order"
    assert messages[3]["tool_call_id"] == "call_9" and json.loads(messages[3]["content"]) == STATUS
    assert meta["conventions"] == ["genai-indexed"] and meta["input_tokens"] == 50


def test_openinference_trace_with_retriever_tool_and_session(tmp_path, db_path, capsys):
    path = write_jsonl(tmp_path / "phoenix.jsonl",
                       [otlp_proto_dict(record_spans(openinference_trace))])
    assert cli(capsys, db_path, "import", str(path))[0] == 0
    [(_, messages, context, _, meta)] = stored(db_path)
    assert roles(messages) == ["system", "user", "assistant", "tool", "assistant"]
    assert messages[2]["tool_calls"][0]["id"] == "call_a"
    assert messages[3]["tool_call_id"] == "call_a" and messages[4]["content"] == ANSWER
    assert context == [{"source": "doc-1", "text": DOC, "score": 0.8}]
    assert (meta["session_id"], meta["user_id"], meta["channel"]) == ("sess-7", "user-42", "web")
    assert meta["conventions"] == ["openinference"] and meta["model"] == "gpt-4o-mini"


def test_group_by_session_merges_a_conversation_split_over_traces(tmp_path, db_path, capsys):
    turn1 = record_spans(lambda t: genai_support_trace(t, "conv-9"))
    turn2 = record_spans(lambda t: genai_support_trace(t, "conv-9", question="And my refund?"))
    other = record_spans(lambda t: genai_support_trace(t, "conv-10"))
    path = write_jsonl(tmp_path / "s.jsonl", [otlp_json_lines(x) for x in (turn1, other, turn2)])
    code, out, _ = cli(capsys, db_path, "import", str(path), "--group-by", "session")
    assert code == 0, out
    rows = {r[0]: r for r in stored(db_path)}
    assert set(rows) == {"conv-9", "conv-10"}
    merged = rows["conv-9"]
    assert [m["content"] for m in merged[1] if m["role"] == "user"] == [QUESTION,
                                                                         "And my refund?"]
    assert len(merged[4]["trace_ids"]) == 2 and merged[4]["llm_calls"] == 4


def test_failed_tool_span_is_flagged_on_its_message_and_in_metadata(tmp_path, db_path, capsys):
    path = write_jsonl(tmp_path / "err.jsonl",
                       [otlp_json_lines(record_spans(lambda t: genai_support_trace(
                           t, fail_tool=True)))])
    assert cli(capsys, db_path, "import", str(path))[0] == 0
    [(_, messages, _, _, meta)] = stored(db_path)
    assert roles(messages) == ["system", "user", "assistant", "tool"]
    assert messages[3]["error"] == "execute_tool get_order: TimeoutError: orders service"
    assert messages[3]["content"] == "" and messages[3]["tool_call_id"] == "call_1"
    assert meta["has_error"] is True
    assert meta["errors"] == [{"span": "execute_tool get_order", "kind": "tool",
                               "message": "TimeoutError: orders service"}]


def test_trace_without_llm_span_is_reported_not_silently_empty(tmp_path, db_path, capsys):
    good = record_spans(genai_support_trace)
    no_llm = record_spans(lambda t: openinference_trace(t, with_llm=False))
    path = write_jsonl(tmp_path / "mixed.jsonl", [otlp_json_lines(good), otlp_json_lines(no_llm)])
    rejects = tmp_path / "rejects.jsonl"
    code, out, _ = cli(capsys, db_path, "import", str(path), "--rejects", str(rejects))
    assert code == 1 and "rejected            1" in out
    trace_id = format(no_llm[0].context.trace_id, "032x")
    assert f"trace 2: trace {trace_id}: no LLM call with messages in its 2 span(s) " \
           "(1 agent, 1 retriever: 'agent', 'retrieve')" in out
    [reject] = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert reject["trace"] == 2 and json.loads(reject["row"])["trace"] == trace_id
    assert json.loads(reject["row"])["lines"] == [2]


def test_malformed_span_rejects_its_trace_naming_trace_and_line(tmp_path, db_path, capsys):
    good = otlp_proto_dict(record_spans(genai_support_trace))
    broken = otlp_proto_dict(record_spans(openinference_trace))
    span = broken["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    span["attributes"] = "not a list"  # a corrupted export: the SDK's output, damaged
    no_trace = otlp_proto_dict(record_spans(genai_indexed_trace))
    del no_trace["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
    path = write_jsonl(tmp_path / "bad.jsonl", [good, broken, no_trace, "{oops\n"])
    code, out, _ = cli(capsys, db_path, "import", str(path))
    assert code == 1, out
    hex_id = base64.b64decode(span["traceId"]).hex()  # base64 in the file; the message: hex
    assert f"trace {hex_id}: line 2, resourceSpans[0].scopeSpans[0].spans[1]: span " \
           f"{span['name']!r}" in out and "'attributes' must be a list" in out
    assert "line 3: resourceSpans[0].scopeSpans[0].spans[0]: span 'get_order.tool': " \
           "'traceId' is missing" in out
    assert "line 4: not valid JSON" in out
    # the span without a trace id is rejected on its own line; its trace's other spans arrive
    assert "rejected            3" in out and count(db_path) == 2


def test_every_trace_rejected_exits_2_and_stores_nothing(tmp_path, db_path, capsys):
    path = write_jsonl(tmp_path / "none.jsonl", [otlp_json_lines(record_spans(
        lambda t: openinference_trace(t, with_llm=False)))])
    code, _, err = cli(capsys, db_path, "import", str(path))
    assert code == 2 and "all 1 rows rejected; nothing imported" in err
    assert count(db_path) == 0


def test_format_flag_and_map_refusal(tmp_path, db_path, capsys):
    path = tmp_path / "spans.txt"
    path.write_text(otlp_json_lines(record_spans(genai_support_trace)))
    code, _, err = cli(capsys, db_path, "import", str(path), "--format", "otlp")
    assert code == 0
    code, _, err = cli(capsys, db_path, "import", str(path), "--format", "otlp", "--map", "id=x")
    assert code == 2 and "--map is for CSV/Parquet columns" in err


@pytest.mark.parametrize("flag", ["--since", "--tag"])
def test_pull_flags_need_from(tmp_path, db_path, capsys, flag):
    path = write_jsonl(tmp_path / "t.jsonl", [otlp_json_lines(record_spans(genai_support_trace))])
    code, _, err = cli(capsys, db_path, "import", str(path), flag, "2026-01-01")
    assert code == 2 and f"{flag}: only with --from langfuse|langsmith" in err
