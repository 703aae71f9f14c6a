"""JSON values from a trace file, one JSONL line or one JSON document (or its array's items)
at a time, each with where it came from. A JSONL file streams; a single JSON document is read
whole, so a very large one is refused with the advice to write JSONL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from core.errors import ImportFailed

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
Progress = Callable[[float, int], None]


@dataclass(frozen=True)
class JsonValue:
    """One parsed value (or why it could not be parsed) and where: 'line 7' or 'item 3'."""

    unit: str
    number: int
    value: Any
    text: str
    error: str | None = None


def is_jsonl(path: Path) -> bool:
    """True when the first non-blank line is a whole JSON value (so: JSONL, or one line)."""
    with path.open("rb") as f:
        for raw in f:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
            if raw.strip():
                try:
                    orjson.loads(raw)
                except orjson.JSONDecodeError:
                    return False
                return True
    return True


def _lines(path: Path, progress: Progress | None) -> Iterator[JsonValue]:
    total = max(path.stat().st_size, 1)
    done = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            done += len(raw)
            if progress and number % 2000 == 0:
                progress(done / total, number)
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            try:
                yield JsonValue("line", number, orjson.loads(raw), "")
            except orjson.JSONDecodeError as e:
                text = raw.decode("utf-8", "replace").rstrip("\n")
                yield JsonValue("line", number, None, text, f"not valid JSON ({e})")


def _document(path: Path, whole: Callable[[Any], bool] | None) -> Iterator[JsonValue]:
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise ImportFailed(
            f"{path.name}: a single JSON document of {size / 1e6:,.0f} MB is more than this "
            f"import reads whole ({MAX_DOCUMENT_BYTES / 1e6:,.0f} MB); write it as JSONL (one "
            "export request, trace or run per line), which streams in bounded memory")
    try:
        data = orjson.loads(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as e:
        raise ImportFailed(f"{path.name}: not valid JSON ({e}; truncated file?)") from e
    items = data if isinstance(data, list) and not (whole and whole(data)) else [data]
    for number, item in enumerate(items, 1):
        yield JsonValue("item", number, item, "")


def json_values(path: Path, progress: Progress | None = None,
                whole: Callable[[Any], bool] | None = None) -> Iterator[JsonValue]:
    """Every value of the file in order: JSONL lines, or the document's array items (the
    array as one value when `whole(array)` says it is one thing, e.g. one conversation)."""
    return _lines(path, progress) if is_jsonl(path) else _document(path, whole)


def first_value(path: Path) -> Any:
    """The file's first value (for format detection); None when there is none."""
    if is_jsonl(path):
        for value in _lines(path, None):
            return value.value
        return None
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        return None
    try:
        data = orjson.loads(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return None
    return data
