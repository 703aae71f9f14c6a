"""OpenAI Responses API items → spans: JSONL with one response a line, `{"id",
"instructions"?, "input": [items], "output": [items], ...}` (what `responses.retrieve` plus
`input_items.list` give), or a bare JSON array of items (one conversation). Each response is
one LLM call; `file_search_call` results become context; a failed or incomplete response is
flagged."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson

from core.ingest.traces.jsonfile import JsonValue
from core.ingest.traces.messages import (
    RESPONSE_ITEM_TYPES,
    MessageShapeError,
    from_response_items,
    to_messages,
)
from core.ingest.traces.spans import Problem, Span, document, ns_from_iso

CONVERSATION_ITEMS = ("message", "function_call", "function_call_output", "custom_tool_call",
                      "custom_tool_call_output", "mcp_call")


def _items(raw: Any, field: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    if not isinstance(raw, list):
        raise MessageShapeError(f"'{field}' must be a list of items or a string, got "
                                f"{type(raw).__name__}")
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not (item.get("type") or item.get("role")):
            raise MessageShapeError(f"'{field}'[{i}] is not a Responses item (no 'type')")
    return raw


def _side_items(span: Span, items: list[dict[str, Any]]) -> None:
    """What is not conversation: file-search results as context, the rest counted."""
    other: dict[str, int] = {}
    for item in items:
        kind = item.get("type", "message")
        if kind == "file_search_call":
            for hit in item.get("results") or []:
                if isinstance(hit, dict):
                    span.documents.append(document(hit.get("text"), hit.get("filename") or
                                                   hit.get("file_id"), hit.get("score"),
                                                   hit.get("file_id")))
        elif kind not in CONVERSATION_ITEMS:
            other[kind] = other.get(kind, 0) + 1
    if other:
        span.trace_meta["other_items"] = other


def _conversation(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return from_response_items([i for i in items if i.get("type", "message") in CONVERSATION_ITEMS])


def _error(response: dict[str, Any]) -> str | None:
    error = response.get("error")
    if isinstance(error, dict) and (error.get("message") or error.get("code")):
        return str(error.get("message") or error.get("code"))
    if response.get("status") == "failed":
        return "status failed"
    if response.get("status") == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return f"incomplete ({reason})" if reason else "incomplete"
    return None


def _tools(raw: Any) -> list[dict[str, Any]]:
    out = []
    for tool in raw if isinstance(raw, list) else []:
        if isinstance(tool, dict) and tool.get("type") == "function" and tool.get("name"):
            out.append({"type": "function", "function": {
                k: tool[k] for k in ("name", "description", "parameters") if k in tool}})
    return out


def response_span(response: dict[str, Any], number: int, unit: str, bare: bool = False) -> Span:
    """One response object → an LLM-call span. MessageShapeError on a malformed item."""
    given, said = _items(response.get("input"), "input"), _items(response.get("output"), "output")
    inputs = to_messages(response["instructions"], "system") if response.get("instructions") \
        else []
    conversation = response.get("conversation")
    span = Span(trace_id=str(response["id"]), span_id=str(response["id"]),
                name=f"response {response['id']}", kind="llm",
                start_ns=ns_from_iso(response.get("created_at")) or 0, line=number,
                inputs=inputs + _conversation(given), outputs=_conversation(said),
                model=response.get("model"), error=_error(response), is_root=True,
                session_id=(conversation.get("id") if isinstance(conversation, dict)
                            else conversation) or None,
                tools=_tools(response.get("tools")), convention="responses")
    usage = response.get("usage") or {}
    span.input_tokens, span.output_tokens = usage.get("input_tokens"), usage.get("output_tokens")
    _side_items(span, given + said)
    meta = response.get("metadata")
    span.trace_meta = {**(meta if isinstance(meta, dict) else {}), **span.trace_meta}
    if not bare:
        span.trace_meta["response_id"] = str(response["id"])
    if response.get("previous_response_id"):
        span.trace_meta["previous_response_id"] = response["previous_response_id"]
    return span


def _bare_items(items: list[Any], number: int, unit: str) -> Span:
    given = _items(items, "items")
    first_id = next((i.get("id") for i in given if i.get("id")), None)
    digest = hashlib.sha256(orjson.dumps(items, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    return response_span({"id": first_id or f"items-{digest}", "input": given}, number, unit,
                         bare=True)


def response_items(value: JsonValue) -> Iterator[Span | Problem]:
    """The span of one line (a response, or a bare item array) of a Responses file."""
    where = f"{value.unit} {value.number}"
    raw = value.value
    try:
        if isinstance(raw, list):
            yield _bare_items(raw, value.number, value.unit)
        elif isinstance(raw, dict) and raw.get("id") and ("output" in raw or "input" in raw):
            yield response_span(raw, value.number, value.unit)
        elif isinstance(raw, dict) and raw.get("type") in RESPONSE_ITEM_TYPES:
            yield Problem(None, where, "a single Responses item: put one conversation's items "
                                       "in a JSON array", value.number, value.unit)
        else:
            yield Problem(None, where, "not a Responses object: expected {\"id\", \"input\", "
                                       "\"output\"} or an array of items", value.number, value.unit)
    except MessageShapeError as e:
        trace = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else None
        yield Problem(trace, where, str(e), value.number, value.unit)
