"""Chat messages as tracing tools record them, turned into the data contract's messages.

One home for every message shape a trace may carry: OpenAI chat messages, LangChain messages
(dumped `{"type": "human", ...}` or serialised `{"lc": 1, "type": "constructor", ...}`), the
GenAI semantic conventions' `{"role", "parts": [...]}`, OpenAI Responses items, Anthropic-style
content blocks, and plain strings. Tool calls always come out in OpenAI's nested form."""

from __future__ import annotations

import json
from typing import Any

ROLE_ALIASES = {"human": "user", "ai": "assistant", "model": "assistant", "bot": "assistant",
                "chat": None, "generic": None}
LC_CLASS_ROLES = {"HumanMessage": "user", "AIMessage": "assistant", "SystemMessage": "system",
                  "ToolMessage": "tool", "FunctionMessage": "function", "ChatMessage": None}
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
TEXT_PART_TYPES = ("text", "input_text", "output_text", "summary_text")


class MessageShapeError(ValueError):
    """A value that should be a chat message but has no shape we can read."""


def as_json_text(value: Any) -> str:
    """Tool arguments and results as the text a tool message carries."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def maybe_json(value: Any) -> Any:
    """A string holding a JSON object or array, decoded; anything else as it is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def tool_call(name: Any, arguments: Any, call_id: Any = None) -> dict[str, Any]:
    """One tool call in OpenAI's form, arguments as a JSON string."""
    call: dict[str, Any] = {"type": "function",
                            "function": {"name": str(name or "?"),
                                         "arguments": as_json_text({} if arguments is None
                                                                   else arguments)}}
    if call_id:
        call = {"id": str(call_id), **call}
    return call


def _openai_call(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise MessageShapeError(f"a tool call must be an object, got {type(raw).__name__}")
    fn = raw.get("function")
    if isinstance(fn, dict):
        return tool_call(fn.get("name"), fn.get("arguments"), raw.get("id"))
    # LangChain's {"name", "args", "id"} and GenAI's {"name", "arguments", "id"}
    return tool_call(raw.get("name"), raw.get("args", raw.get("arguments")), raw.get("id"))


def _text_of_parts(parts: list[Any]) -> tuple[str | None, list[dict], list[dict]]:
    """Content parts → (text, tool calls, tool results) for the blocks we understand."""
    texts, calls, results = [], [], []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in TEXT_PART_TYPES or (kind is None and "text" in part):
            texts.append(str(part.get("text", part.get("content", ""))))
        elif kind == "refusal":
            texts.append(str(part.get("refusal", "")))
        elif kind in ("tool_call", "tool_use", "function_call"):
            calls.append(tool_call(part.get("name"), part.get("arguments", part.get("input")),
                                   part.get("id") or part.get("call_id")))
        elif kind in ("tool_call_response", "tool_result", "function_call_output"):
            results.append({"role": "tool", "tool_call_id": part.get("id") or
                            part.get("tool_use_id") or part.get("call_id"),
                            "content": plain_text(part.get("response", part.get("content",
                                                                            part.get("output"))))})
    return ("\n".join(t for t in texts if t) if texts else None), calls, results


def plain_text(value: Any) -> str:
    """Message content (a string, content parts, or anything) as plain text."""
    if isinstance(value, list):
        text, _, _ = _text_of_parts(value)
        if text is not None:
            return text
    return "" if value is None else as_json_text(value)


def _role(raw: dict[str, Any], default: str) -> str:
    role = raw.get("role")
    if role is None and "type" in raw:
        role = raw["type"]
    role = str(role or default).lower()
    if role in ROLE_ALIASES:
        role = ROLE_ALIASES[role] or str(raw.get("role") or default)
    return role  # an unknown role is left for validation to name


def _finish(role: str, content: Any, calls: list[dict], raw: dict[str, Any]) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": role, "content": content}
    if calls:
        msg["tool_calls"] = calls
        if content in ("", []):
            msg["content"] = None
    elif content is None:
        msg["content"] = ""
    for key in ("name", "tool_call_id"):
        if raw.get(key):
            msg[key] = str(raw[key])
    return msg


def _from_lc(raw: dict[str, Any]) -> list[dict[str, Any]]:
    cls = str((raw.get("id") or ["?"])[-1]).removesuffix("Chunk")
    kwargs = dict(raw.get("kwargs") or {})
    role = LC_CLASS_ROLES.get(cls, "")
    if cls not in LC_CLASS_ROLES:
        raise MessageShapeError(f"LangChain object {cls!r} is not a chat message")
    kwargs["role"] = role or kwargs.get("role") or "user"
    kwargs.pop("type", None)
    return _from_dict(kwargs, kwargs["role"])


def _from_dict(raw: dict[str, Any], default: str) -> list[dict[str, Any]]:
    if raw.get("lc") and raw.get("type") == "constructor":
        return _from_lc(raw)
    if "parts" in raw and "content" not in raw:  # GenAI semantic conventions
        text, calls, results = _text_of_parts(list(raw.get("parts") or []))
        role = _role(raw, default)
        out = [] if role == "tool" and results else [_finish(role, text, calls, raw)]
        return out + results
    role = _role(raw, default)
    content = raw.get("content", raw.get("text"))
    calls = [_openai_call(c) for c in raw.get("tool_calls") or []]
    extra = raw.get("additional_kwargs") or {}
    if not calls and isinstance(extra, dict):
        calls = [_openai_call(c) for c in extra.get("tool_calls") or []]
    fn = raw.get("function_call") or (extra.get("function_call") if isinstance(extra, dict) else None)
    results: list[dict[str, Any]] = []
    if isinstance(content, list):
        text, part_calls, results = _text_of_parts(content)
        has_other = any(isinstance(p, dict) and p.get("type") not in TEXT_PART_TYPES
                        and p.get("type") not in ("tool_use", "tool_result", "tool_call")
                        for p in content)
        content = content if has_other else text
        calls = calls or part_calls
    elif content is not None and not isinstance(content, str):
        content = as_json_text(content)
    msg = _finish(role, content, calls, raw)
    if isinstance(fn, dict) and not calls:
        msg["function_call"] = {"name": str(fn.get("name") or "?"),
                                "arguments": as_json_text(fn.get("arguments") or {})}
        if msg["content"] == "":
            msg["content"] = None
    if results and not content and not calls:  # a message that only carries tool results
        return results
    return [msg, *results]


def to_messages(value: Any, default_role: str = "user") -> list[dict[str, Any]]:
    """Whatever a trace recorded as the messages of an LLM call → contract messages.
    MessageShapeError when a value has no shape we can read."""
    value = maybe_json(value)
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": default_role, "content": value}]
    if isinstance(value, list):
        if value and isinstance(value[0], list):  # LangChain batches: [[messages of call 1]]
            value = value[0]
        if value and isinstance(value[0], dict) and _is_response_item(value[0]):
            return from_response_items(value)
        out: list[dict[str, Any]] = []
        for item in value:
            out.extend(to_messages(item, default_role) if not isinstance(item, dict)
                       else _from_dict(item, default_role))
        return out
    if isinstance(value, dict):
        return _from_container(value, default_role)
    return [{"role": default_role, "content": as_json_text(value)}]


def _from_container(value: dict[str, Any], default_role: str) -> list[dict[str, Any]]:
    for key in ("messages", "input_messages", "prompt_messages"):
        if key in value:
            return to_messages(value[key], default_role)
    if "generations" in value:  # LangChain LLMResult
        gens = value["generations"]
        first = gens[0][0] if gens and isinstance(gens[0], list) and gens[0] else \
            (gens[0] if gens else None)
        if isinstance(first, dict):
            return to_messages(first.get("message") or first.get("text"), default_role)
        return []
    if "choices" in value:  # an OpenAI chat completion
        choices = value.get("choices") or []
        if choices and isinstance(choices[0], dict):
            first = choices[0]
            return to_messages(first.get("message") or first.get("text"), default_role)
        return []
    if "role" in value or "parts" in value or value.get("lc") or \
            str(value.get("type", "")).lower() in (*ROLE_ALIASES, *ROLES):
        return _from_dict(value, default_role)
    if _is_response_item(value):
        return from_response_items([value])
    for key in ("message", "prompt", "prompts", "input", "question", "query", "output", "answer",
                "completion", "text", "content"):
        if key in value and value[key] is not None:
            return to_messages(value[key], default_role)
    return [{"role": default_role, "content": as_json_text(value)}]


RESPONSE_ITEM_TYPES = ("message", "function_call", "function_call_output", "reasoning",
                       "file_search_call", "web_search_call", "computer_call",
                       "computer_call_output", "custom_tool_call", "custom_tool_call_output",
                       "mcp_call", "item_reference")


def _is_response_item(value: dict[str, Any]) -> bool:
    return value.get("type") in RESPONSE_ITEM_TYPES and "lc" not in value


def from_response_items(items: list[Any]) -> list[dict[str, Any]]:
    """OpenAI Responses items → contract messages: consecutive function calls join one
    assistant message; function_call_output becomes a tool message. Items that are not
    conversation (reasoning, file search, web search) are left to the caller."""
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise MessageShapeError(f"a Responses item must be an object, got {type(item).__name__}")
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            out.extend(_from_dict({k: v for k, v in item.items() if k != "type"},
                                  str(item.get("role") or "user")))
        elif kind in ("function_call", "custom_tool_call", "mcp_call"):
            call = tool_call(item.get("name"), item.get("arguments", item.get("input")),
                             item.get("call_id") or item.get("id"))
            last = out[-1] if out else None
            if last and last["role"] == "assistant" and last.get("tool_calls") is not None \
                    and last.get("content") in (None, ""):
                last["tool_calls"].append(call)
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind in ("function_call_output", "custom_tool_call_output"):
            msg = {"role": "tool", "content": plain_text(item.get("output"))}
            if item.get("call_id"):
                msg["tool_call_id"] = str(item["call_id"])
            out.append(msg)
        elif kind is None:
            raise MessageShapeError("a Responses item has no 'type' and no 'role'")
    return out
