"""LangSmith runs → spans: JSONL of `Run` objects (what `Client.list_runs` yields, one
`model_dump_json()` a line) and the bulk-export Parquet (the same fields; nested ones may be
JSON text). Grouped by `trace_id`, ordered by `dotted_order`. llm runs in OpenAI style or as
LangChain messages (dumped or serialised `lc` constructors); retriever `documents`; tool runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.errors import ImportFailed
from core.ingest.traces.jsonfile import JsonValue, Progress
from core.ingest.traces.messages import MessageShapeError, as_json_text, maybe_json, to_messages
from core.ingest.traces.spans import Problem, Span, documents_from, ns_from_iso

KINDS = {"llm": "llm", "chat_model": "llm", "tool": "tool", "retriever": "retriever",
         "chain": "chain", "prompt": "other", "parser": "other", "embedding": "other"}
SESSION_KEYS = ("thread_id", "session_id", "conversation_id")


def _dict(value: Any) -> dict[str, Any]:
    value = maybe_json(value)
    return value if isinstance(value, dict) else {}


def _model(extra: dict[str, Any], inputs: dict[str, Any]) -> str | None:
    meta = extra.get("metadata") or {}
    params = extra.get("invocation_params") or {}
    return meta.get("ls_model_name") or params.get("model") or params.get("model_name") or \
        inputs.get("model")


def _tools(extra: dict[str, Any], inputs: dict[str, Any]) -> list[dict[str, Any]]:
    raw = (extra.get("invocation_params") or {}).get("tools") or inputs.get("tools") or []
    out = []
    for tool in raw if isinstance(raw, list) else []:
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            out.append({"type": "function", "function": tool["function"]})
    return out


def _tool_io(span: Span, inputs: dict[str, Any], outputs: Any) -> None:
    span.tool_name = span.name
    given = inputs.get("input", inputs) if set(inputs) <= {"input", "tool_call_id"} else inputs
    span.tool_arguments = as_json_text(maybe_json(given)) if given not in ({}, None) else None
    span.tool_call_id = inputs.get("tool_call_id")
    out = outputs.get("output", outputs) if isinstance(outputs, dict) else outputs
    if isinstance(out, dict) and out.get("lc"):  # a serialised ToolMessage
        out = out.get("kwargs") or {}
    if isinstance(out, dict) and ("tool_call_id" in out or out.get("type") == "tool"):
        span.tool_call_id = out.get("tool_call_id") or span.tool_call_id
        out = out.get("content")
    span.tool_result = None if out is None else as_json_text(out)


def _root_meta(run: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (extra.get("metadata") or {}).items()
            if not str(k).startswith("ls_") and k not in ("revision_id",)}
    meta["name"] = run.get("name")
    tags = maybe_json(run.get("tags"))
    if tags:
        meta["tags"] = list(tags)
    if run.get("session_id"):
        meta["project_id"] = str(run["session_id"])
    feedback = maybe_json(run.get("feedback_stats"))
    if feedback:
        meta["feedback"] = feedback  # outcome-like: what "hide outcome metadata" must cover
    return meta


def run_span(run: dict[str, Any], number: int, unit: str, where: str) -> Span | Problem:
    """One run (a dict of Run's fields) → a Span, or the Problem naming its trace."""
    run_id = run.get("id")
    trace_id = run.get("trace_id") or (run_id if not run.get("parent_run_id") else None)
    name = str(run.get("name") or "")
    if not trace_id:
        return Problem(None, where, f"run {run_id or name!r}: 'trace_id' is missing", number, unit)
    start = ns_from_iso(run.get("start_time"))
    if not run_id or start is None or not run.get("run_type"):
        missing = "'id'" if not run_id else "'run_type'" if not run.get("run_type") else \
            "'start_time' (an ISO-8601 time)"
        return Problem(str(trace_id), where, f"run {run_id or name!r}: {missing} is missing "
                                             "or unreadable", number, unit)
    extra, inputs = _dict(run.get("extra")), _dict(run.get("inputs"))
    outputs = maybe_json(run.get("outputs"))
    meta = extra.get("metadata") or {}
    span = Span(trace_id=str(trace_id), span_id=str(run_id), name=name,
                kind=KINDS.get(str(run["run_type"]), "other"), start_ns=start,
                parent_id=str(run["parent_run_id"]) if run.get("parent_run_id") else None,
                end_ns=ns_from_iso(run.get("end_time")), order=str(run.get("dotted_order") or ""),
                line=number, is_root=not run.get("parent_run_id"),
                error=str(run["error"]) if run.get("error") else
                ("status error" if run.get("status") == "error" else None),
                session_id=next((str(meta[k]) for k in SESSION_KEYS if meta.get(k)), None),
                user_id=meta.get("user_id"), input_tokens=run.get("prompt_tokens"),
                output_tokens=run.get("completion_tokens"))
    if span.is_root:
        span.trace_meta = _root_meta(run, extra)
    try:
        if span.kind == "llm":
            span.inputs = to_messages(inputs, "user")
            span.outputs = to_messages(outputs, "assistant")[:1] if outputs else []
            span.model, span.tools = _model(extra, inputs), _tools(extra, inputs)
        elif span.kind == "tool":
            _tool_io(span, inputs, outputs)
        elif span.kind == "retriever":
            span.documents = documents_from(outputs, name or "retriever")
    except MessageShapeError as e:
        return Problem(span.trace_id, where, f"run {run_id} ({name!r}): {e}", number, unit)
    return span


def langsmith_items(value: JsonValue) -> Iterator[Span | Problem]:
    """Spans from one value of a runs JSONL/JSON file (a run, or a list of runs)."""
    where = f"{value.unit} {value.number}"
    runs = value.value if isinstance(value.value, list) else [value.value]
    for run in runs:
        if not isinstance(run, dict):
            yield Problem(None, where, f"expected a LangSmith run object, got "
                                       f"{type(run).__name__}", value.number, value.unit)
            continue
        yield run_span(run, value.number, value.unit, where)


def parquet_runs(path: Path, progress: Progress | None = None) -> Iterator[Span | Problem]:
    """Spans from a bulk-export Parquet file, one row (run) at a time."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises several types for a file that is not Parquet
        raise ImportFailed(f"{path.name}: not a readable Parquet file ({e})") from e
    total, number = max(pf.metadata.num_rows, 1), 0
    for batch in pf.iter_batches(batch_size=2000):
        for row in batch.to_pylist():
            number += 1
            yield run_span(row, number, "row", f"row {number}")
        if progress:
            progress(number / total, number)


def is_runs_parquet(columns: list[str]) -> bool:
    """Whether a Parquet file's columns are LangSmith runs (the bulk export)."""
    return {"run_type", "trace_id"} <= set(columns) or {"run_type", "dotted_order"} <= set(columns)
