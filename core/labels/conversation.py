"""A transcript as safe HTML fragments for the Annotate page.

Every string that comes from a transcript (content, names, tool names and arguments, context,
metadata) goes through `html.escape` here; the page passes the result to `st.html`, which
does no markdown processing, so neither tags nor `[x](javascript:...)` links can come alive.
Folding uses native <details> elements: cheap for a browser, no Streamlit widget per message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

from core.store.transcripts import Transcript

FOLD_CHARS = 300  # tool results longer than this start collapsed
LONG_CHARS = 4000  # any message longer than this starts collapsed
PAGE_SIZE = 40  # messages rendered at once; longer transcripts are paged
FOLDED_ROLES = ("system", "developer")

CSS = """<style>
.tr-msg{border-radius:.6rem;padding:.5rem .75rem;margin:.35rem 0;border:1px solid #e3e5ea}
.tr-user{background:#eef4ff;margin-right:12%}
.tr-assistant{background:#f6f6f7;margin-left:12%}
.tr-tool,.tr-function{background:#fbf8ef;margin-left:12%;font-size:.9em}
.tr-system,.tr-developer{background:#f3f0fa;font-size:.9em}
.tr-head{font-size:.78em;color:#5b6170;font-weight:600;margin-bottom:.2rem}
.tr-body{white-space:pre-wrap;word-break:break-word;margin:0;font-family:inherit}
.tr-call{font-family:monospace;font-size:.85em;background:#fff;border:1px dashed #c9ccd4;
 border-radius:.4rem;padding:.3rem .5rem;margin-top:.3rem;white-space:pre-wrap;word-break:break-word}
.tr-ctx{border-left:3px solid #7aa7e8;padding:.3rem .6rem;margin:.4rem 0;background:#f8fbff}
details.tr-fold summary{cursor:pointer;color:#3b4252}
.tr-error{color:#a1260d;font-size:.85em;font-weight:600;margin-top:.3rem}
.tr-failed{border-color:#d9534f}
.tr-json .tr-body{font-family:monospace;font-size:.85em}
.tr-msg{scroll-margin-top:4rem}
</style>"""


@dataclass(frozen=True)
class ToolCallView:
    """A tool call: its name and pretty-printed arguments (raw text when not JSON)."""

    name: str
    arguments: str


@dataclass(frozen=True)
class MessageView:
    """One message, ready to draw: role, optional name, text and tool calls."""

    index: int
    role: str
    name: str | None
    text: str
    tool_calls: tuple[ToolCallView, ...]
    error: str | None = None  # a failed step of the trace this message came from

    @property
    def is_error(self) -> bool:
        """A failed step: flagged by its trace, or a tool result that reports an error."""
        if self.error is not None:
            return True
        if self.role not in ("tool", "function"):
            return False
        head = self.text.lstrip()[:200].lower()
        return head.startswith(("error", "exception", "traceback")) or '"error":' in head

    @property
    def folded(self) -> bool:
        """Whether the message starts collapsed."""
        if self.role in FOLDED_ROLES:
            return True
        if self.role in ("tool", "function"):
            return len(self.text) > FOLD_CHARS
        return len(self.text) > LONG_CHARS

    def summary(self, width: int = 60) -> str:
        """A one-line description, e.g. for picking the failure turn (not escaped)."""
        text = " ".join(self.text.split()) or ", ".join(c.name for c in self.tool_calls)
        who = f"{self.role} ({self.name})" if self.name else self.role
        return f"#{self.index} {who}: {text[:width]}"


def _text(content: Any) -> str:
    """Message content as text: strings as-is, content-part lists joined, anything else as JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
        return "\n".join(p if isinstance(p, str) else json.dumps(p) for p in parts)
    return json.dumps(content, ensure_ascii=False, indent=2)


def pretty_arguments(raw: Any) -> str:
    """Tool arguments pretty-printed when they are JSON (a string or an object)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return raw
    return json.dumps(raw, ensure_ascii=False, indent=2)


def pretty_json(text: str) -> str:
    """A tool result that is a JSON object or array, indented; any other text as it is."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return text
    try:
        return json.dumps(json.loads(stripped), ensure_ascii=False, indent=2)
    except ValueError:
        return text


def _calls(message: dict[str, Any]) -> tuple[ToolCallView, ...]:
    calls = list(message.get("tool_calls") or [])
    if message.get("function_call"):
        calls.append({"function": message["function_call"]})
    out = []
    for c in calls:
        fn = c.get("function") if isinstance(c, dict) else None
        fn = fn if isinstance(fn, dict) else {}
        out.append(ToolCallView(str(fn.get("name") or "?"), pretty_arguments(fn.get("arguments"))))
    return tuple(out)


def message_views(transcript: Transcript) -> list[MessageView]:
    """The transcript's messages as views, numbered from 0 (the failure-turn index)."""
    return views_of(transcript.messages)


def views_of(messages: list[Any]) -> list[MessageView]:
    """Record messages (stored or not yet imported) as views, numbered from 0."""
    out = []
    for i, m in enumerate(messages):
        m = m if isinstance(m, dict) else {"role": "?", "content": m}
        name, error = m.get("name"), m.get("error")
        role = str(m.get("role") or "?")
        text = _text(m.get("content"))
        if role in ("tool", "function"):
            text = pretty_json(text)
        out.append(MessageView(i, role, None if name is None else str(name), text, _calls(m),
                               None if error is None else str(error)))
    return out


def message_html(m: MessageView) -> str:
    """One message bubble; every transcript string escaped."""
    who = escape(m.role) + (f" · {escape(m.name)}" if m.name else "")
    body = f'<div class="tr-body">{escape(m.text)}</div>' if m.text else ""
    if m.folded:
        label = "system prompt" if m.role in FOLDED_ROLES else f"{len(m.text):,} characters"
        preview = escape(" ".join(m.text[:120].split()))
        body = (f'<details class="tr-fold"><summary>{label} — {preview}…</summary>'
                f"{body}</details>")
    calls = "".join(
        f'<div class="tr-call">tool call: {escape(c.name)}({escape(c.arguments)})</div>'
        for c in m.tool_calls)
    role_class = escape(m.role if m.role.isalnum() else "other")
    error = f'<div class="tr-error">error: {escape(m.error)}</div>' if m.error else ""
    is_json = m.role in ("tool", "function") and m.text[:1] in ("{", "[")
    extra = " tr-failed" * m.is_error + " tr-json" * is_json
    return (f'<div class="tr-msg tr-{role_class}{extra}" id="tr-m{m.index}">'
            f'<div class="tr-head">#{m.index} {who}</div>{body}{calls}{error}</div>')


def messages_html(views: list[MessageView]) -> str:
    """A run of message bubbles, with the stylesheet, as one fragment."""
    return CSS + "".join(message_html(m) for m in views)


def page_ranges(n: int, size: int = PAGE_SIZE) -> list[tuple[int, int]]:
    """[start, end) ranges that page a transcript of n messages."""
    return [(s, min(s + size, n)) for s in range(0, max(n, 1), size)]


def context_html(context: list[Any] | None) -> str:
    """Retrieved documents, each with its source, escaped."""
    if not context:
        return CSS + '<div class="tr-head">No retrieved context in this record.</div>'
    parts = []
    for i, doc in enumerate(context, 1):
        doc = doc if isinstance(doc, dict) else {"text": doc}
        source = escape(str(doc.get("source") or f"document {i}"))
        parts.append(f'<div class="tr-ctx"><div class="tr-head">{source}</div>'
                     f'<div class="tr-body">{escape(_text(doc.get("text")))}</div></div>')
    return CSS + "".join(parts)


def metadata_rows(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """Metadata as (key, value) text pairs for a table widget (which escapes)."""
    return [(str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
            for k, v in metadata.items()]


def facts_table(t: Transcript, metadata: dict) -> dict[str, list[str]]:
    """The metadata given (the transcript's, less what the viewer may not see), source, message
    count and the id in the source (when it differs), as the two columns of a table widget."""
    rows = metadata_rows(metadata) + [("source", t.source), ("messages", str(t.n_messages))]
    if t.original_id != t.transcript_id:
        rows.append(("id in the source", t.original_id))
    return {"field": [k for k, _ in rows], "value": [v for _, v in rows]}

