"""Files uploaded through the Import page: kept beside the database so an import (and its
rejects file) can be traced back to the exact bytes that were uploaded."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from core.errors import ImportFailed
from core.ingest.pipeline import Preview
from core.ingest.readers import MAP_FIELDS
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


def preview_rows(preview: Preview) -> list[dict[str, Any]]:
    """The preview's valid records as flat table rows (id, turns, first user text, metadata)."""
    rows = []
    for r in preview.records:
        user = next((m.get("content") for m in r.get("messages", []) if m.get("role") == "user"), None)
        rows.append({"id": str(r.get("id")), "messages": len(r.get("messages", [])),
                     "first user message": str(user or "")[:200],
                     "context docs": len(r.get("context") or []),
                     "tools": len(r.get("tools") or []),
                     "metadata": ", ".join(f"{k}={v}" for k, v in (r.get("metadata") or {}).items())[:300]})
    return rows
