"""Span attributes → what the span did, for the conventions LLM instrumentations write:
- OpenTelemetry GenAI: `gen_ai.operation.name`, `gen_ai.input.messages` / `.output.messages` /
  `gen_ai.system_instructions` (parts), `gen_ai.tool.*`, `gen_ai.retrieval.documents`, and the
  older indexed `gen_ai.prompt.{i}.*` / `gen_ai.completion.{i}.*`;
- OpenInference (Arize Phoenix): `openinference.span.kind`, `llm.input_messages.{i}.message.*`,
  `retrieval.documents.{i}.document.*`, `tool.name`, `input.value` / `output.value`."""

from __future__ import annotations

import json
from typing import Any

import orjson

from core.ingest.traces.messages import MessageShapeError, as_json_text, to_messages, tool_call
from core.ingest.traces.spans import Span, document

GENAI_KINDS = {"chat": "llm", "text_completion": "llm", "generate_content": "llm",
               "execute_tool": "tool", "retrieval": "retriever", "invoke_agent": "agent",
               "create_agent": "agent", "invoke_workflow": "chain", "embeddings": "other"}
OPENINFERENCE_KINDS = {"LLM": "llm", "TOOL": "tool", "RETRIEVER": "retriever", "AGENT": "agent",
                       "CHAIN": "chain"}


def nested(attrs: dict[str, Any], prefix: str) -> Any:
    """Flattened attributes under `prefix.` as a tree; all-digit levels become lists:
    {"p.0.message.role": "user"} → [{"message": {"role": "user"}}]."""
    tree: dict[str, Any] = {}
    start = len(prefix) + 1
    for key, value in attrs.items():
        if not key.startswith(prefix + "."):
            continue
        node = tree
        parts = key[start:].split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return _lists(tree)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


def _json_attr(attrs: dict[str, Any], key: str) -> Any:
    value = attrs.get(key)
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as e:
            raise MessageShapeError(f"'{key}' is not valid JSON ({e})") from e
    return value


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _tool_defs(raw: Any) -> list[dict[str, Any]]:
    out = []
    for tool in raw if isinstance(raw, list) else []:
        tool = json.loads(tool) if isinstance(tool, str) else tool
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            out.append({"type": "function", "function": tool["function"]})
        elif isinstance(tool, dict) and tool.get("name"):
            fn = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
            out.append({"type": "function", "function": fn})
    return out


def apply_genai(span: Span, attrs: dict[str, Any]) -> None:
    """Fill `span` from GenAI semantic-convention attributes (current and indexed forms)."""
    op = attrs.get("gen_ai.operation.name")
    prefixes = {k.split(".", 2)[1] for k in attrs if k.startswith(("gen_ai.prompt.",
                                                                  "gen_ai.completion.",
                                                                  "llm.request.functions."))}
    indexed = bool(prefixes & {"prompt", "completion"})
    structured = "gen_ai.input.messages" in attrs or "gen_ai.output.messages" in attrs
    span.kind = GENAI_KINDS.get(str(op), "llm" if (indexed or structured) else span.kind)
    span.convention = "genai-indexed" if indexed and not structured else "genai"
    system = _json_attr(attrs, "gen_ai.system_instructions")
    if system:
        parts = system if isinstance(system, list) else [system]
        span.inputs = [m for m in to_messages({"role": "system", "parts": parts})]
    span.inputs += to_messages(_json_attr(attrs, "gen_ai.input.messages"), "user")
    # Several output messages are several choices: the conversation went on with the first.
    span.outputs = to_messages(_json_attr(attrs, "gen_ai.output.messages"), "assistant")[:1]
    if indexed:
        span.inputs += _indexed_messages(nested(attrs, "gen_ai.prompt"), "user")
        span.outputs = span.outputs or _indexed_messages(nested(attrs, "gen_ai.completion"),
                                                         "assistant")[:1]
    span.model = attrs.get("gen_ai.request.model") or attrs.get("gen_ai.response.model")
    span.session_id = attrs.get("gen_ai.conversation.id") or attrs.get("session.id")
    span.input_tokens = _int(attrs.get("gen_ai.usage.input_tokens",
                                       attrs.get("gen_ai.usage.prompt_tokens")))
    span.output_tokens = _int(attrs.get("gen_ai.usage.output_tokens",
                                        attrs.get("gen_ai.usage.completion_tokens")))
    span.tools = _tool_defs(_json_attr(attrs, "gen_ai.tool.definitions"))
    if not span.tools and "request" in prefixes:
        span.tools = _tool_defs(nested(attrs, "llm.request.functions"))
    if span.kind == "tool":
        span.tool_name = attrs.get("gen_ai.tool.name") or span.name
        span.tool_call_id = attrs.get("gen_ai.tool.call.id")
        args = attrs.get("gen_ai.tool.call.arguments")
        span.tool_arguments = None if args is None else as_json_text(args)
        result = attrs.get("gen_ai.tool.call.result")
        span.tool_result = None if result is None else as_json_text(result)
    docs = _json_attr(attrs, "gen_ai.retrieval.documents")
    for doc in docs if isinstance(docs, list) else []:
        if isinstance(doc, dict):
            span.documents.append(document(doc.get("content", doc.get("text")),
                                           doc.get("title") or doc.get("uri") or doc.get("id"),
                                           doc.get("score"), doc.get("id")))
    if attrs.get("gen_ai.agent.name"):
        span.trace_meta.setdefault("agent", attrs["gen_ai.agent.name"])


def _indexed_messages(items: Any, default_role: str) -> list[dict[str, Any]]:
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        calls = [tool_call(c.get("name"), c.get("arguments"), c.get("id"))
                 for c in item.get("tool_calls") or [] if isinstance(c, dict)]
        msg: dict[str, Any] = {"role": item.get("role") or default_role,
                               "content": item.get("content")}
        if calls:
            msg["tool_calls"] = calls
        elif msg["content"] is None:
            msg["content"] = ""
        if item.get("tool_call_id"):
            msg["tool_call_id"] = str(item["tool_call_id"])
        out.append(msg)
    return out


def _oi_message(raw: Any) -> list[dict[str, Any]]:
    m = (raw or {}).get("message") or {}
    calls = [tool_call(fn.get("name"), fn.get("arguments"), (c.get("tool_call") or {}).get("id"))
             for c in m.get("tool_calls") or []
             for fn in [((c.get("tool_call") or {}).get("function") or {})]]
    content = m.get("content")
    if content is None and m.get("contents"):
        texts = [(p.get("message_content") or {}).get("text") for p in m["contents"]]
        content = "\n".join(t for t in texts if t)
    msg: dict[str, Any] = {"role": m.get("role") or "user", "content": content}
    if calls:
        msg["tool_calls"] = calls
    elif content is None:
        msg["content"] = ""
    for key in ("name", "tool_call_id"):
        if m.get(key):
            msg[key] = str(m[key])
    if m.get("function_call_name") and not calls:
        msg["function_call"] = {"name": m["function_call_name"],
                                "arguments": m.get("function_call_arguments_json") or "{}"}
    return [msg]


def apply_openinference(span: Span, attrs: dict[str, Any]) -> None:
    """Fill `span` from OpenInference attributes."""
    span.convention = "openinference"
    span.kind = OPENINFERENCE_KINDS.get(str(attrs.get("openinference.span.kind")).upper(), "other")
    for raw in nested(attrs, "llm.input_messages") or []:
        span.inputs += _oi_message(raw)
    for raw in (nested(attrs, "llm.output_messages") or [])[:1]:  # the first choice
        span.outputs += _oi_message(raw)
    span.model = attrs.get("llm.model_name")
    span.session_id = attrs.get("session.id")
    span.user_id = attrs.get("user.id")
    span.input_tokens = _int(attrs.get("llm.token_count.prompt"))
    span.output_tokens = _int(attrs.get("llm.token_count.completion"))
    tools = nested(attrs, "llm.tools") or []
    span.tools = _tool_defs([(t.get("tool") or {}).get("json_schema") for t in tools
                             if isinstance(t, dict)])
    if span.kind == "tool":
        span.tool_name = attrs.get("tool.name") or span.name
        span.tool_call_id = attrs.get("tool_call.id") or attrs.get("tool.id")
        value = attrs.get("input.value")
        span.tool_arguments = None if value is None else as_json_text(value)
        output = attrs.get("output.value")
        span.tool_result = None if output is None else as_json_text(output)
    for raw in nested(attrs, "retrieval.documents") or []:
        doc = (raw or {}).get("document") or {}
        meta = doc.get("metadata")
        meta = json.loads(meta) if isinstance(meta, str) and meta.startswith("{") else meta
        source = (meta or {}).get("source") if isinstance(meta, dict) else None
        span.documents.append(document(doc.get("content"), source or doc.get("id"),
                                       doc.get("score"), doc.get("id")))
    user_meta = _json_attr(attrs, "metadata")
    if isinstance(user_meta, dict):
        for key, value in user_meta.items():
            span.trace_meta.setdefault(key, value)
    if attrs.get("tag.tags"):
        span.trace_meta.setdefault("tags", list(attrs["tag.tags"]))


def _apply_traceloop_tool(span: Span, attrs: dict[str, Any]) -> None:
    """OpenLLMetry (which writes the indexed GenAI form) marks its tool spans its own way."""
    span.kind, span.convention = "tool", "genai-indexed"
    span.tool_name = attrs.get("traceloop.entity.name") or span.name
    for key, target in (("traceloop.entity.input", "tool_arguments"),
                        ("traceloop.entity.output", "tool_result")):
        if attrs.get(key) is not None:
            setattr(span, target, as_json_text(attrs[key]))


def apply_conventions(span: Span, attrs: dict[str, Any]) -> None:
    """Whichever convention the attributes follow; a span that follows none stays 'other'.
    MessageShapeError (or ValueError) when an attribute is malformed."""
    if "openinference.span.kind" in attrs:
        apply_openinference(span, attrs)
    elif any(k.startswith("gen_ai.") for k in attrs):
        apply_genai(span, attrs)
    elif attrs.get("traceloop.span.kind") == "tool":
        _apply_traceloop_tool(span, attrs)
    span.user_id = span.user_id or attrs.get("user.id") or attrs.get("enduser.id")
    span.session_id = span.session_id or attrs.get("session.id")
