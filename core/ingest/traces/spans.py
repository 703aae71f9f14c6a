"""The normalised span every trace reader produces: what one step of a trace did (an LLM
call, a tool run, a retrieval), in the data contract's terms, with where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KINDS = ("llm", "tool", "retriever", "agent", "chain", "span", "other")


@dataclass
class Span:
    """One step of a trace. `inputs`/`outputs` are contract messages (LLM and agent spans);
    tool spans carry the tool's name, call id, arguments and result; retrievers `documents`
    as context records. `order` sorts before the start time where the source defines an order
    (LangSmith's dotted_order)."""

    trace_id: str
    span_id: str
    name: str
    kind: str
    start_ns: int
    parent_id: str | None = None
    end_ns: int | None = None
    order: str = ""
    line: int = 0
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    tool_name: str | None = None
    tool_call_id: str | None = None
    tool_arguments: str | None = None
    tool_result: str | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None
    error: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Trace-level facts this span carries (service name, tags, trace name, user metadata).
    trace_meta: dict[str, Any] = field(default_factory=dict)
    convention: str | None = None
    is_root: bool | None = None

    @property
    def sort_key(self) -> tuple[str, int, str]:
        return (self.order, self.start_ns, self.span_id)

    @property
    def has_messages(self) -> bool:
        return bool(self.inputs or self.outputs)


def span_from_dict(data: dict[str, Any]) -> Span:
    """A Span back from its JSON form (the spill file)."""
    return Span(**data)


def ns_from_iso(value: Any) -> int | None:
    """An ISO-8601 time ('2026-03-01T12:00:00.123Z', naive = UTC) or epoch s/ms/µs/ns → epoch ns."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        for limit, scale in ((1e11, 1e9), (1e14, 1e6), (1e17, 1e3)):  # s, ms, µs
            if value < limit:
                return int(value * scale)
        return int(value)
    if isinstance(value, datetime):
        when = value
    else:
        text = str(value).strip().replace(" ", "T", 1)
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def iso_from_ns(ns: int) -> str:
    """Epoch ns → '2026-03-01T12:00:00.123456Z' (UTC, microseconds)."""
    when = datetime.fromtimestamp(ns // 1000 / 1_000_000, tz=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def document(text: Any, source: Any = None, score: Any = None, doc_id: Any = None
             ) -> dict[str, Any]:
    """One retrieved document as a context record: {"source", "text"} plus score and id."""
    doc: dict[str, Any] = {"source": str(source if source is not None else (doc_id or "retrieval")),
                           "text": "" if text is None else (text if isinstance(text, str)
                                                            else str(text))}
    if isinstance(score, int | float) and not isinstance(score, bool):
        doc["score"] = score
    if doc_id is not None and str(doc_id) != doc["source"]:
        doc["id"] = str(doc_id)
    return doc


@dataclass(frozen=True)
class Problem:
    """Something wrong in the input: for a known trace (rejects that trace) or, without one,
    for the line or item it sits on (rejects that line)."""

    trace_id: str | None
    where: str
    message: str
    number: int = 0
    unit: str = "line"
    text: str = ""


@dataclass
class TraceFacts:
    """Trace-level facts a source keeps apart from its spans (a Langfuse trace object):
    merged into the record's metadata; `session_id` and `user_id` as for spans."""

    trace_id: str
    meta: dict[str, Any] = field(default_factory=dict)
    session_id: str | None = None
    user_id: str | None = None


def documents_from(value: Any, default_source: str) -> list[dict[str, Any]]:
    """Retrieved documents as recorded (LangChain Documents, serialised or dumped, dicts with
    content/text and metadata, plain strings, or `{"documents": [...]}`) → context records."""
    if isinstance(value, dict) and not value.get("lc"):
        for key in ("documents", "docs", "results", "output"):
            if key in value:
                return documents_from(value[key], default_source)
        value = [value]
    out = []
    for doc in value if isinstance(value, list) else [value] if value else []:
        if isinstance(doc, dict) and doc.get("lc"):
            doc = doc.get("kwargs") or {}
        if isinstance(doc, str):
            out.append(document(doc, default_source))
        elif isinstance(doc, dict):
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
            text = doc.get("page_content", doc.get("content", doc.get("text")))
            source = meta.get("source") or meta.get("title") or doc.get("source") or \
                doc.get("title") or doc.get("id") or meta.get("id") or default_source
            out.append(document(text, source, doc.get("score", meta.get("score")),
                                doc.get("id") or meta.get("id")))
    return out
