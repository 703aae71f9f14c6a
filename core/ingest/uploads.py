"""Files uploaded through the Import page: kept beside the database so an import (and its
rejects file) can be traced back to the exact bytes that were uploaded."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from core.errors import ImportFailed
from core.ingest.pipeline import PREVIEW_TRACE_VALUES, Preview
from core.ingest.readers import MAP_FIELDS, TRACE_FORMATS
from core.labels.conversation import context_html, messages_html, views_of
from core.store.connection import utcnow

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def store_upload(db_path: Path, file_name: str, data: bytes) -> Path:
    """Write uploaded bytes to `<db folder>/uploads/<time>-<id>/<name>` (so the batch keeps the
    file's own name); returns the path. The name keeps only its last component and safe
    characters (no path traversal)."""
    if not data:
        raise ImportFailed(f"{file_name}: the file is empty; nothing to import")
    safe = _UNSAFE.sub("_", Path(file_name).name).strip("._") or "upload"
    folder = Path(db_path).parent / "uploads" / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    path = folder / safe
    path.write_bytes(data)
    return path


def rejects_path_for(upload: Path) -> Path:
    """Where an uploaded file's rejected rows go: `<db folder>/rejects/<upload id>-<name>.jsonl`."""
    return upload.parent.parent.parent / "rejects" / f"{upload.parent.name}-{upload.stem}.jsonl"


def default_mapping(columns: list[str]) -> dict[str, str]:
    """For CSV/Parquet: each record field mapped to the column of its own name, if present."""
    return {f: f for f in MAP_FIELDS if f in columns}


def counts(record: dict[str, Any]) -> dict[str, int]:
    """What a record holds: messages, tool calls, context documents, flagged errors."""
    messages = record.get("messages") or []
    return {"messages": len(messages),
            "tool calls": sum(len(m.get("tool_calls") or []) for m in messages),
            "context docs": len(record.get("context") or []),
            "errors": sum(1 for m in messages if m.get("error"))}


def preview_rows(preview: Preview) -> list[dict[str, Any]]:
    """The preview's valid records as flat table rows (id, counts, first user text, metadata)."""
    rows = []
    for r in preview.records:
        user = next((m.get("content") for m in r.get("messages", []) if m.get("role") == "user"), None)
        rows.append({"id": str(r.get("id")), **counts(r),
                     "first user message": str(user or "")[:200],
                     "tools": len(r.get("tools") or []),
                     "metadata": ", ".join(f"{k}={v}" for k, v in (r.get("metadata") or {}).items())[:300]})
    return rows


def preview_caption(preview: Preview) -> str:
    """The line above the preview table: format, how much was read, valid and rejected."""
    n = len(preview.records) + len(preview.errors)
    unit = "trace" if preview.format in TRACE_FORMATS else "row"
    where = (f" (spans of the first {PREVIEW_TRACE_VALUES:,} lines)"
             if preview.format in TRACE_FORMATS else "")
    return (f"Format: {preview.format} · first {unit if n == 1 else f'{n} {unit}s'}{where}: "
            f"{len(preview.records)} valid, {len(preview.errors)} with errors")


def error_rows(preview: Preview) -> list[dict[str, Any]]:
    """The preview's rejected rows: where, which field, what is wrong."""
    return [{"row": f"{e.unit} {e.line}", "field": e.field, "problem": e.message}
            for e in preview.errors]


def record_title(record: dict[str, Any]) -> str:
    """'<id> · 5 messages, 1 tool call, 1 context document' for an expander."""
    c = counts(record)
    parts = [f"{c['messages']} messages", f"{c['tool calls']} tool call"
             + ("" if c["tool calls"] == 1 else "s"), f"{c['context docs']} context document"
             + ("" if c["context docs"] == 1 else "s")]
    if c["errors"]:
        parts.append(f"{c['errors']} flagged error" + ("" if c["errors"] == 1 else "s"))
    return f"{record.get('id')} · {', '.join(parts)}"


def record_html(record: dict[str, Any]) -> str:
    """A record as it will render on the Annotate page: the conversation, then the context."""
    html = messages_html(views_of(record.get("messages") or []))
    if record.get("context"):
        html += ('<div class="tr-head" style="margin-top:.6rem">retrieved context (shown apart '
                 "on the Annotate page)</div>" + context_html(record["context"]))
    return html
