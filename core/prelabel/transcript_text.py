"""A transcript as plain text: what the LLM reads and what the offline model's TF-IDF sees.
Content that imitates the rendering's own turn and section headers is marked as quoted, so a
message cannot pass itself off as another turn."""

from __future__ import annotations

import json
from typing import Any

from core.prelabel.fence import fence_headers
from core.store.transcripts import Transcript


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return json.dumps(content, ensure_ascii=False)


def _tool_calls_text(message: dict[str, Any]) -> list[str]:
    calls = list(message.get("tool_calls") or [])
    if message.get("function_call"):
        calls.append({"function": message["function_call"]})
    lines = []
    for call in calls:
        fn = call.get("function") or {}
        lines.append(f"  -> tool call {fn.get('name', '?')}({fn.get('arguments', '')})")
    return lines


def render_message(i: int, message: dict[str, Any]) -> str:
    """One message as '[turn i] role (name): content' plus its tool calls."""
    role = message.get("role", "?")
    name = f" ({message['name']})" if message.get("name") else ""
    head = f"[turn {i}] {role}{name}:"
    lines = [f"{head} {fence_headers(_content_text(message.get('content')))}".rstrip()]
    return "\n".join(lines + _tool_calls_text(message))


def render_transcript(t: Transcript, metadata_allowlist: list[str] | tuple[str, ...] = ()) -> str:
    """Tools offered, retrieved context, allow-listed metadata, then the conversation."""
    parts = []
    if t.tools:
        names = [(x.get("function") or x).get("name", "?") for x in t.tools if isinstance(x, dict)]
        parts.append("TOOLS AVAILABLE: " + ", ".join(names))
    for j, doc in enumerate(t.context or []):
        parts.append(f"RETRIEVED CONTEXT {j + 1} ({doc.get('source', '?')}): {fence_headers(str(doc.get('text', '')))}")
    meta = {k: t.metadata[k] for k in metadata_allowlist if k in t.metadata}
    if meta:
        parts.append("METADATA: " + json.dumps(meta, ensure_ascii=False, sort_keys=True))
    parts.extend(render_message(i, m) for i, m in enumerate(t.messages))
    return "\n".join(parts)
