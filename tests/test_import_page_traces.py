"""The Import page with trace files: the preview shows the first traces as they will render,
with per-trace counts, before anything is written; then the import."""

from __future__ import annotations

from tests.seed_helpers import app, texts
from tests.test_import_page import batches
from tests.trace_fixtures import (
    ANSWER,
    genai_support_trace,
    openinference_trace,
    otlp_json_lines,
    record_spans,
)


def test_trace_preview_renders_first_traces_with_counts_then_imports(db, db_path, monkeypatch):
    data = (otlp_json_lines(record_spans(genai_support_trace))
            + otlp_json_lines(record_spans(lambda t: genai_support_trace(t, fail_tool=True,
                                                                         question="Refund?")))
            + otlp_json_lines(record_spans(lambda t: openinference_trace(t, with_llm=False))))
    at = app("pages/import.py", db_path, "ann", monkeypatch).run()
    at.file_uploader(key="import_file").set_value(("traces.jsonl", data.encode(),
                                                   "application/jsonl")).run()
    assert "Format: otlp · first 3 traces (spans of the first 5,000 lines): 2 valid, " \
           "1 with errors" in texts(at)
    table = at.dataframe[0].value
    assert list(table["messages"]) == [5, 4] and list(table["tool calls"]) == [1, 1]
    assert list(table["context docs"]) == [1, 1] and list(table["errors"]) == [0, 1]
    assert "no LLM call with messages" in str(at.dataframe[1].value["problem"][0])
    labels = [e.label for e in at.expander]
    assert labels[0].endswith("· 5 messages, 1 tool call, 1 context document")
    assert labels[1].endswith("· 4 messages, 1 tool call, 1 context document, 1 flagged error")
    html = at.get("html")[0].proto.body
    assert ANSWER in html and "tool call: get_order" in html and "kb/shipping.md" in html
    error_html = at.get("html")[1].proto.body
    assert "error: execute_tool get_order: TimeoutError: orders service" in error_html
    assert batches(db) == []  # the preview stores nothing
    assert at.radio(key="import_group").value == "trace"
    at.button(key="import_confirm").click().run()
    assert "Imported; some rows were rejected (see below). (exit code 1)" in texts(at)
    assert batches(db) == [("traces.jsonl", "otlp", "default", 3, 2, 1, "ann")]


def test_group_by_session_on_the_page(db, db_path, monkeypatch):
    data = (otlp_json_lines(record_spans(lambda t: genai_support_trace(t, "conv-1")))
            + otlp_json_lines(record_spans(lambda t: genai_support_trace(t, "conv-1",
                                                                         question="More?"))))
    at = app("pages/import.py", db_path, "ann", monkeypatch).run()
    at.file_uploader(key="import_file").set_value(("s.jsonl", data.encode(), "x")).run()
    assert list(at.dataframe[0].value["id"]) != ["conv-1"]
    at.radio(key="import_group").set_value("session").run()
    assert list(at.dataframe[0].value["id"]) == ["conv-1"]
    assert list(at.dataframe[0].value["messages"]) == [9]
