"""Langfuse traces and observations → spans.

Shapes read: the UI's trace download (`trace-<id>.json`: `{"trace", "observations"}` from the
legacy view, `{"observations", "scores"}` from the current one), the public API's trace with
full details (`{"id", ..., "observations": [...]}`), a page of the Observations API v2
(`{"data": [...], "meta": {...}}`), and JSON/JSONL exports of observations (camelCase from the UI
and API, snake_case from the blob-storage export). GENERATION → messages, RETRIEVER → context,
TOOL (or a SPAN whose name a generation called) → tool results, level ERROR → flagged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from core.ingest.traces.jsonfile import JsonValue
from core.ingest.traces.messages import MessageShapeError, as_json_text, maybe_json, to_messages
from core.ingest.traces.spans import Problem, Span, TraceFacts, documents_from, ns_from_iso

KINDS = {"GENERATION": "llm", "TOOL": "tool", "RETRIEVER": "retriever", "AGENT": "agent",
         "CHAIN": "chain", "SPAN": "span"}
TRACE_META = ("name", "tags", "environment", "release", "version")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _get(raw: dict[str, Any], camel: str) -> Any:
    value = raw.get(camel)
    return raw.get(_SNAKE.sub("_", camel).lower()) if value is None else value


def _usage(raw: dict[str, Any], key: str) -> int | None:
    usage = _get(raw, "usageDetails") or _get(raw, "usage") or {}
    value = usage.get(key) if isinstance(usage, dict) else None
    return int(value) if isinstance(value, int | float) else None


def _tools(value: Any) -> list[dict[str, Any]]:
    tools = value.get("tools") if isinstance(value, dict) else None
    out = []
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            out.append({"type": "function", "function": tool["function"]})
        elif isinstance(tool, dict) and tool.get("name"):
            out.append({"type": "function", "function": {
                k: tool[k] for k in ("name", "description", "parameters") if k in tool}})
    return out


def _tool_result(span: Span, output: Any) -> None:
    if isinstance(output, dict) and output.get("tool_call_id"):  # a LangChain ToolMessage
        span.tool_call_id = str(output["tool_call_id"])
        output = output.get("content", output)
    span.tool_result = None if output is None else as_json_text(output)


def observation_span(raw: dict[str, Any], number: int, unit: str, where: str) -> Span | Problem:
    """One observation (camelCase or snake_case) → a Span, or the Problem naming its trace."""
    trace_id, obs_id = _get(raw, "traceId"), raw.get("id")
    name = str(raw.get("name") or "")
    if not trace_id:
        return Problem(None, where, f"observation {obs_id or name!r}: 'traceId' is missing",
                       number, unit)
    start = ns_from_iso(_get(raw, "startTime"))
    if not obs_id or start is None:
        missing = "'id'" if not obs_id else "'startTime' (an ISO-8601 time)"
        return Problem(str(trace_id), where, f"observation {obs_id or name!r}: {missing} is "
                                             "missing or unreadable", number, unit)
    kind = KINDS.get(str(raw.get("type") or "").upper(), "other")
    parent = _get(raw, "parentObservationId")
    root = _get(raw, "isRootObservation")
    span = Span(trace_id=str(trace_id), span_id=str(obs_id), name=name, kind=kind,
                start_ns=start, parent_id=parent, end_ns=ns_from_iso(_get(raw, "endTime")),
                line=number, model=raw.get("model") or _get(raw, "providedModelName"),
                session_id=_get(raw, "sessionId"), user_id=_get(raw, "userId"),
                input_tokens=_usage(raw, "input"), output_tokens=_usage(raw, "output"),
                is_root=bool(root) if root is not None else not parent)
    if str(raw.get("level") or "").upper() == "ERROR":
        span.error = str(_get(raw, "statusMessage") or "level ERROR")
    span.trace_meta = {("name" if k == "traceName" else k): _get(raw, k)
                       for k in ("traceName", "tags", "environment", "release")
                       if _get(raw, k) not in (None, [], "")}
    try:
        _fill(span, maybe_json(raw.get("input")), maybe_json(raw.get("output")))
    except MessageShapeError as e:
        return Problem(span.trace_id, where, f"observation {obs_id} ({name!r}): {e}", number, unit)
    return span


def _fill(span: Span, given: Any, output: Any) -> None:
    if span.kind == "llm":
        span.inputs = to_messages(given, "user")
        span.outputs = to_messages(output, "assistant")[:1]
        span.tools = _tools(given)
    elif span.kind == "agent" and (given is not None or output is not None):
        span.inputs = to_messages(given, "user")
        span.outputs = to_messages(output, "assistant")[:1]
    elif span.kind in ("tool", "span"):
        span.tool_name = span.name
        span.tool_arguments = None if given is None else as_json_text(given)
        _tool_result(span, output)
    elif span.kind == "retriever":
        span.documents = documents_from(output, span.name or "retriever")


def trace_facts(trace: dict[str, Any], scores: list[Any]) -> TraceFacts:
    """A trace object (and its scores) → trace-level metadata."""
    meta = {k: trace[k] for k in TRACE_META if trace.get(k) not in (None, [], "")}
    user_meta = maybe_json(trace.get("metadata"))
    if isinstance(user_meta, dict):
        meta = {**user_meta, **meta}
    named = {}
    for score in scores:
        if isinstance(score, dict) and score.get("name"):
            value = score.get("value", score.get("stringValue"))
            named[str(score["name"])] = score.get("stringValue") if value is None else value
    if named:
        meta["scores"] = named  # outcome-like: what "hide outcome metadata" must cover
    return TraceFacts(str(trace.get("id")), meta, _get(trace, "sessionId"), _get(trace, "userId"))


def _scores_by_trace(scores: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for score in scores if isinstance(scores, list) else []:
        if isinstance(score, dict) and _get(score, "traceId"):
            out.setdefault(str(_get(score, "traceId")), []).append(score)
    return out


def langfuse_items(value: JsonValue) -> Iterator[Span | Problem | TraceFacts]:
    """Spans and trace facts from one value of a Langfuse file."""
    where = f"{value.unit} {value.number}"
    items = value.value if isinstance(value.value, list) else [value.value]
    for item in items:
        yield from _items_of(item, value, where)


def _items_of(item: Any, value: JsonValue, where: str) -> Iterator[Span | Problem | TraceFacts]:
    if not isinstance(item, dict):
        yield Problem(None, where, f"expected a Langfuse trace or observation object, got "
                                   f"{type(item).__name__}", value.number, value.unit)
        return
    if isinstance(item.get("data"), list):  # a saved page of the Observations API
        for obs in item["data"]:
            yield from _items_of(obs, value, where)
        return
    if isinstance(item.get("observations"), list) or isinstance(item.get("trace"), dict):
        yield from _download(item, value, where)
        return
    if item.get("type") and _get(item, "traceId"):
        yield observation_span(item, value.number, value.unit, where)
    elif item.get("id") and item.get("timestamp"):  # a trace row of a traces export
        yield trace_facts(item, [])
    else:
        yield Problem(None, where, "not a Langfuse trace or observation: no 'observations', "
                                   "and no 'type' with 'traceId'", value.number, value.unit)


def _download(item: dict[str, Any], value: JsonValue, where: str
              ) -> Iterator[Span | Problem | TraceFacts]:
    trace = item.get("trace") if isinstance(item.get("trace"), dict) else \
        {k: v for k, v in item.items() if k not in ("observations", "scores")}
    observations = list(item.get("observations") or [])
    seen = {o.get("id") for o in observations if isinstance(o, dict)}
    observations += [o for o in trace.get("observations") or []
                     if isinstance(o, dict) and o.get("id") not in seen]
    scores = _scores_by_trace(list(item.get("scores") or []) + list(trace.get("scores") or []))
    trace_id = trace.get("id")
    for obs in observations:
        if isinstance(obs, dict) and trace_id and not _get(obs, "traceId"):
            obs = {**obs, "traceId": trace_id}
        yield from _items_of(obs, value, where) if isinstance(obs, dict) else \
            [Problem(str(trace_id) if trace_id else None, where, "an observation must be an "
                     "object", value.number, value.unit)]
    if trace_id:
        yield trace_facts(trace, scores.pop(str(trace_id), []))
    for other, rows in scores.items():
        yield TraceFacts(other, trace_facts({"id": other}, rows).meta)
