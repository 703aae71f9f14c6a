"""One trace (or one session of traces) → one transcript record of the data contract.

The conversation is rebuilt from the LLM calls in order: each call's input messages are
merged onto what earlier calls already said (a later call's input repeats the history), then
what it answered (readers keep the first choice). Tool runs the messages do not already answer become tool messages
after the assistant message that called them; retrievals become `context`; a failed span is
flagged on the message where it happened (`"error"`) and listed in `metadata.errors`."""

from __future__ import annotations

from typing import Any

import orjson

from core.ingest.traces.messages import plain_text
from core.ingest.traces.spans import Span, iso_from_ns


class TraceRejected(ValueError):
    """A trace that cannot become a transcript (no LLM call, malformed spans)."""


def _args_key(arguments: Any) -> str:
    if isinstance(arguments, str) and arguments[:1] in ("{", "["):
        try:
            return orjson.dumps(orjson.loads(arguments), option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONDecodeError:
            pass
    return str(arguments)


def message_key(m: dict[str, Any]) -> tuple:
    """What makes two recordings of a message the same message (ids and extras ignored)."""
    calls = tuple((c["function"]["name"], _args_key(c["function"].get("arguments")))
                  for c in m.get("tool_calls") or [])
    content = m.get("content")
    text = content if isinstance(content, str) else plain_text(content) if content else ""
    return (m.get("role"), " ".join(text.split()), calls)


def _flag(message: dict[str, Any], text: str) -> None:
    message["error"] = f"{message['error']}; {text}" if message.get("error") else text


def _error_text(span: Span) -> str:
    return f"{span.name}: {span.error}" if span.error and span.name else str(span.error)


class Conversation:
    """The messages rebuilt so far, each with the start time of the span it came from."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.origins: list[int] = []
        self.keys: list[tuple] = []  # message_key of each message, kept in step

    def _insert(self, index: int, message: dict[str, Any], origin: int) -> None:
        self.messages.insert(index, message)
        self.origins.insert(index, origin)
        self.keys.insert(index, message_key(message))

    def merge_call(self, span: Span) -> None:
        """Add one LLM call: the input messages not yet said, then what it answered."""
        outputs = [dict(m) for m in span.outputs]
        if span.error and not outputs:  # the call failed before answering
            outputs = [{"role": "assistant", "content": ""}]
        keys = self.keys
        in_keys = [message_key(m) for m in span.inputs]
        n = 0
        while n < min(len(keys), len(in_keys)) and keys[n] == in_keys[n]:
            n += 1
        out_keys = [message_key(m) for m in outputs]
        if n == len(in_keys) and keys[n:n + len(out_keys)] == out_keys and out_keys:
            return  # the same call recorded twice (a wrapper span around the client's span)
        if n == len(keys):
            new = span.inputs[n:]
        else:  # another view of the history (a sub-agent, a router): add what is new only
            seen = set(keys)
            new = [m for m, k in zip(span.inputs[n:], in_keys[n:], strict=True) if k not in seen]
        for m in [dict(m) for m in new] + outputs:
            self._insert(len(self.messages), m, span.start_ns)
        if span.error:
            _flag(self.messages[-1], _error_text(span))

    def _find_call(self, span: Span, claimed: set[tuple[int, int]]) -> tuple[int, int] | None:
        for i, m in enumerate(self.messages):
            for j, call in enumerate(m.get("tool_calls") or []):
                if span.tool_call_id and call.get("id") == span.tool_call_id:
                    return i, j
        for i, m in enumerate(self.messages):
            for j, call in enumerate(m.get("tool_calls") or []):
                if (i, j) not in claimed and call["function"]["name"] == span.tool_name:
                    return i, j
        return None

    def _answer_of(self, i: int, j: int) -> int | None:
        call_id = self.messages[i]["tool_calls"][j].get("id")
        if call_id:
            for k, m in enumerate(self.messages):
                if m.get("role") == "tool" and m.get("tool_call_id") == call_id:
                    return k
            return None
        k = i + 1 + j  # calls without ids are answered in order, right after the call
        ok = k < len(self.messages) and all(
            self.messages[x].get("role") == "tool" for x in range(i + 1, k + 1))
        return k if ok else None

    def attach_tool(self, span: Span, claimed: set[tuple[int, int]]) -> None:
        """A tool run: flag or add the tool message answering its call."""
        found = self._find_call(span, claimed)
        result = {"role": "tool", "content": span.tool_result or ""}
        if found is None:  # a tool the model did not call (a pipeline step): in time order
            at = sum(1 for o in self.origins if o <= span.start_ns)
            result = {**result, "name": span.tool_name or span.name}
            if span.tool_arguments is not None:
                result["arguments"] = span.tool_arguments
            self._insert(at, result, span.start_ns)
            if span.error:
                _flag(result, _error_text(span))
            return
        claimed.add(found)
        i, j = found
        answer = self._answer_of(i, j)
        if answer is None:
            call = self.messages[i]["tool_calls"][j]
            if call.get("id"):
                result["tool_call_id"] = call["id"]
            result["name"] = call["function"]["name"]
            answer = i + 1
            while answer < len(self.messages) and self.messages[answer].get("role") == "tool":
                answer += 1
            self._insert(answer, result, span.start_ns)
        if span.error:
            _flag(self.messages[answer], _error_text(span))

    def flag_near(self, span: Span) -> None:
        """An error on a span that made no message: flag the message said when it failed."""
        if not self.messages:
            return
        at = max(0, sum(1 for o in self.origins if o <= span.start_ns) - 1)
        _flag(self.messages[at], _error_text(span))


def _conversation_spans(spans: list[Span]) -> list[Span]:
    llm = [s for s in spans if s.kind == "llm" and (s.has_messages or s.error)]
    return llm or [s for s in spans if s.kind == "agent" and s.has_messages]


def _tool_spans(spans: list[Span], conv: Conversation) -> list[Span]:
    called = {c["function"]["name"] for m in conv.messages for c in m.get("tool_calls") or []}
    return [s for s in spans if s.kind == "tool" or (s.kind == "span" and s.name in called
                                                    and s.tool_result is not None)]


def _no_llm_message(record_id: str, spans: list[Span]) -> str:
    kinds: dict[str, int] = {}
    for s in spans:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    found = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    names = ", ".join(sorted({repr(s.name) for s in spans})[:5])
    return (f"trace {record_id}: no LLM call with messages in its {len(spans)} span(s) "
            f"({found}: {names}); nothing to show as a conversation")


def _conversation(spans: list[Span]) -> tuple[Conversation, int, int] | None:
    """One trace's conversation (None without an LLM call), with its call and tool counts."""
    calls = _conversation_spans(spans)
    if not calls:
        return None
    conv = Conversation()
    for span in calls:
        conv.merge_call(span)
    claimed: set[tuple[int, int]] = set()
    tool_runs = _tool_spans(spans, conv)
    for span in tool_runs:
        conv.attach_tool(span, claimed)
    used = {id(s) for s in calls} | {id(s) for s in tool_runs}
    for span in spans:
        if span.error and id(span) not in used:
            conv.flag_near(span)
    return conv, len(calls), len(tool_runs)


def join_turns(first: list[dict[str, Any]], then: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two traces of one session, one after the other: a later trace that repeats the history
    adds what is new; one that starts afresh adds all but a system prompt already said."""
    keys, next_keys = [message_key(m) for m in first], [message_key(m) for m in then]
    n = 0
    while n < min(len(keys), len(next_keys)) and keys[n] == next_keys[n]:
        n += 1
    if n == len(keys):
        return first + then[n:]
    seen, i = set(keys), 0
    while i < len(then) and then[i].get("role") in ("system", "developer") and \
            next_keys[i] in seen:
        i += 1
    return first + then[i:]


def build_record(record_id: str, spans: list[Span], fmt: str, trace_ids: list[str],
                 problems: list[str] | None = None) -> dict[str, Any]:
    """The transcript record of these spans (one trace, or a session's traces in order);
    TraceRejected naming the trace when it has malformed spans or no LLM call."""
    if problems:
        shown = "; ".join(problems[:3]) + (f"; … {len(problems) - 3} more" if len(problems) > 3 else "")
        raise TraceRejected(f"trace {record_id}: {shown}")
    spans = sorted(spans, key=lambda s: s.sort_key)
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    messages: list[dict[str, Any]] = []
    n_calls = n_tools = 0
    for trace_spans in by_trace.values():
        built = _conversation(trace_spans)
        if built is not None:
            messages = join_turns(messages, built[0].messages)
            n_calls, n_tools = n_calls + built[1], n_tools + built[2]
    if not n_calls:
        raise TraceRejected(_no_llm_message(record_id, spans))
    record: dict[str, Any] = {"id": record_id, "messages": messages,
                              "metadata": _metadata(spans, fmt, trace_ids, n_calls, n_tools)}
    context = _documents(spans)
    if context:
        record["context"] = context
    tools = _tools(spans)
    if tools:
        record["tools"] = tools
    return record


def _documents(spans: list[Span]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for span in spans:
        for doc in span.documents:
            key = (doc.get("source"), doc.get("text"))
            if key not in seen:
                seen.add(key)
                out.append(doc)
    return out


def _tools(spans: list[Span]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for span in spans:
        for tool in span.tools:
            name = (tool.get("function") or {}).get("name") or tool.get("name")
            if name not in seen:
                seen.add(name)
                out.append(tool)
    return out


def _metadata(spans: list[Span], fmt: str, trace_ids: list[str], n_calls: int,
              n_tools: int) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for span in spans:
        for key, value in span.trace_meta.items():
            meta.setdefault(key, value)
    if len(trace_ids) == 1:
        meta["trace_id"] = trace_ids[0]
    else:
        meta["trace_ids"] = trace_ids
    meta.update({"trace_format": fmt, "spans": len(spans), "llm_calls": n_calls,
                 "tool_runs": n_tools, "retrievals": sum(1 for s in spans if s.kind == "retriever")})
    start = min(s.start_ns for s in spans)
    if start > 0:  # 0: the source recorded no times (a bare Responses item array)
        end = max((s.end_ns or s.start_ns) for s in spans)
        meta["started_at"] = iso_from_ns(start)
        meta["duration_ms"] = round((end - start) / 1e6, 3)
    conventions = sorted({s.convention for s in spans if s.convention})
    if conventions:
        meta["conventions"] = conventions
    models = sorted({s.model for s in spans if s.model})
    if models:
        meta["model" if len(models) == 1 else "models"] = models[0] if len(models) == 1 else models
    for key in ("session_id", "user_id"):
        value = next((getattr(s, key) for s in spans if getattr(s, key)), None)
        if value:
            meta[key] = value
    for key in ("input_tokens", "output_tokens"):
        counts = [getattr(s, key) for s in spans if getattr(s, key) is not None]
        if counts:
            meta[key] = sum(counts)
    errors = [{"span": s.name, "kind": s.kind, "message": s.error} for s in spans if s.error]
    meta["has_error"] = bool(errors)
    if errors:
        meta["errors"] = errors
    return meta
