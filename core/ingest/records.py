"""The transcript record of the data contract, validated as real logs are: leniently where
PRODUCT.md says so, strictly everywhere else. Untrusted rows are parsed with pydantic and
every problem becomes a RowError naming the field ("'messages' must be a list, got str").
Then the one mapping of a record to its `transcripts` row: canonical JSON, content hash,
derived counts (`prepare`), and the ids and batch it is stored under (`transcript_columns`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from core.ingest.fastcheck import surely_valid

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
RECORD_FIELDS = ("id", "messages", "metadata", "context", "tools")


@dataclass(frozen=True)
class RowError:
    """One problem with one input row: where (line/row/item number), which field, what."""

    line: int
    field: str | None
    message: str
    unit: str = "line"

    def __str__(self) -> str:
        where = f"{self.unit} {self.line}: " if self.line else ""
        return f"{where}{self.message}"


class _Function(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    arguments: str | dict[str, Any] | None = None


class _ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    type: str = "function"
    function: _Function


class _Message(BaseModel):
    # Lenient on purpose (PRODUCT.md): any first role, `name` anywhere, tool messages without
    # tool_call_id, tool_calls on user messages (simulated users), extra provider keys kept.
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[_ToolCall] | None = None
    tool_call_id: str | None = None
    function_call: _Function | None = None

    @model_validator(mode="after")
    def _content_or_calls(self) -> _Message:
        if self.content is None and not self.tool_calls and self.function_call is None:
            raise ValueError("content is null and the message has no tool_calls")
        return self


class _ContextDoc(BaseModel):
    model_config = ConfigDict(extra="allow")
    source: str | None = None
    text: str


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")  # unknown top-level keys end up in metadata
    id: str | int
    messages: list[_Message]
    metadata: dict[str, Any] | None = None
    context: list[_ContextDoc] | None = None
    tools: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> _Record:
        if not self.messages:
            raise ValueError("'messages' is empty: a transcript needs at least one message")
        if isinstance(self.id, str) and not self.id.strip():
            raise ValueError("'id' is empty")
        return self


def _type_name(value: Any) -> str:
    return {dict: "object", list: "list", str: "str", type(None): "null", bool: "bool",
            int: "int", float: "float"}.get(type(value), type(value).__name__)


_EXPECTED = {"list_type": "a list", "dict_type": "an object", "string_type": "a string",
             "model_type": "an object", "model_attributes_type": "an object"}


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "int", "list[dict[str,any]]", "dict[str,any]", "function-after[_content_or_calls(), _Message]"):
            continue  # pydantic's union-branch names are noise to a user
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_error(err: dict) -> tuple[str, str]:
    """A pydantic error → (field path, message a user can act on)."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or "(" in p)))
    field = _field_path(loc)
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return field, f"'{field}' is missing"
    if kind == "extra_forbidden":
        return field, f"unknown field '{field}'"
    if kind == "literal_error" and field.endswith("role"):
        return field, f"'{field}' must be one of {', '.join(ROLES)}, got {value!r}"
    if kind == "literal_error":
        return field, f"'{field}' must be {err.get('ctx', {}).get('expected', '?')}, got {value!r}"
    if kind == "string_type" and value is None:
        return field, f"'{field}' is empty"
    if kind == "value_error":
        msg = err["msg"].removeprefix("Value error, ")
        return field, f"'{field}': {msg}" if field else msg
    expected = _EXPECTED.get(kind)
    if expected is None and kind.endswith("_type"):
        expected = "a string or number" if field == "id" else kind.removesuffix("_type")
    if expected:
        return field, f"'{field}' must be {expected}, got {_type_name(value)}"
    return field, f"'{field}': {err['msg']}"


def validation_errors(record: Any, line: int, unit: str = "line") -> list[RowError]:
    """Every problem with one record (empty list when it is valid)."""
    if surely_valid(record):
        return []
    if not isinstance(record, dict):
        return [RowError(line, None, f"a transcript must be a JSON object, got {_type_name(record)}", unit)]
    try:
        _Record.model_validate(record)
    except ValidationError as e:
        seen: dict[str, RowError] = {}
        for err in e.errors(include_url=False):
            field, message = describe_error(err)
            seen.setdefault(message, RowError(line, field or None, message, unit))
        return list(seen.values())[:5]
    if isinstance(record["id"], bool):
        return [RowError(line, "id", "'id' must be a string or number, got bool", unit)]
    return []


def normalize(record: dict[str, Any]) -> dict[str, Any]:
    """Fold unknown top-level keys into metadata (nothing a log carried is lost), so the
    record has only the contract's fields."""
    extra = {k: v for k, v in record.items() if k not in RECORD_FIELDS}
    if not extra:
        return record
    out = {k: v for k, v in record.items() if k in RECORD_FIELDS}
    meta = dict(out.get("metadata") or {})
    for k, v in extra.items():
        meta.setdefault(k, v)
    out["metadata"] = meta
    return out


def _json_default(value: Any) -> Any:
    """Values JSON lacks, as CSV/Parquet readers give them: dates and times as ISO text,
    decimals as numbers."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} values cannot be stored as JSON")


def canonical_json(value: Any, plain: bool = False) -> str:
    """Stable JSON text (sorted keys, no spaces): what hashes and storage use.

    The text is Python's `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
    (hashes stored since the first release depend on it). orjson writes the same bytes ~10x
    faster for plain JSON values (dicts, lists, strings, 64-bit ints, bools, None), so it takes
    those; anything else (floats, whose text differs, dates, decimals, huge ints, lone
    surrogates) goes through json.dumps. `plain=True`: the caller knows the value is plain
    (parsed by orjson from text without a float), so the check is skipped."""
    if plain or _plain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
        except orjson.JSONEncodeError:
            pass
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default)


def _plain(value: Any) -> bool:
    """True when `value` holds only dicts, lists, strings, ints, bools and None."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
        elif not (t is str or t is int or t is bool or v is None):
            return False
    return True


def _hash_texts(messages: str, context: str, tools: str) -> str:
    # The canonical JSON of {"context", "messages", "tools"}, assembled from the parts' texts
    # (keys in sorted order) so each part is serialised once.
    payload = f'{{"context":{context},"messages":{messages},"tools":{tools}}}'
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def content_hash(messages: list, context: list | None, tools: list | None) -> str:
    """The content identity of a transcript: same conversation, context and tools → same hash."""
    return _hash_texts(canonical_json(messages), canonical_json(context or None),
                       canonical_json(tools or None))


@dataclass(frozen=True)
class PreparedRow:
    """A valid record in storage form: canonical JSON texts, content hash, derived counts."""

    record_id: str  # the id as written in the record; the importer picks the transcript_id
    messages: str
    context: str | None
    tools: str | None
    metadata: str
    content_hash: str
    n_messages: int
    has_tool_calls: bool
    n_chars: int


def prepare(record: dict[str, Any], plain: bool = False) -> PreparedRow:
    """Storage form of a validated record (its hash is `content_hash` of its parts); `plain`
    as for canonical_json."""
    messages = record["messages"]
    context = record.get("context") or None
    tools = record.get("tools") or None
    m_json, c_json, t_json = (canonical_json(v, plain) for v in (messages, context, tools))
    return PreparedRow(
        record_id=str(record["id"]), messages=m_json,
        context=None if context is None else c_json, tools=None if tools is None else t_json,
        metadata=canonical_json(record.get("metadata") or {}, plain),
        content_hash=_hash_texts(m_json, c_json, t_json),
        n_messages=len(messages),
        has_tool_calls=any(m.get("tool_calls") or m.get("function_call") for m in messages),
        n_chars=sum(len(c) if isinstance(c := m.get("content"), str) else len(str(c or ""))
                    for m in messages),
    )


_PREPARED = ("record_id", "messages", "context", "tools", "metadata", "content_hash",
             "n_messages", "has_tool_calls", "n_chars")


def transcript_columns(rows: Sequence[PreparedRow], transcript_ids: Sequence[str], source: str,
                       batch_id: str | None, imported_at: datetime) -> dict[str, list]:
    """Prepared rows with the ids they are stored under, as the `transcripts` columns that
    store.transcripts.insert_transcripts takes (one list per column)."""
    n = len(rows)
    cols: dict[str, list] = {c: [getattr(p, c) for p in rows] for c in _PREPARED}
    cols.update(transcript_id=list(transcript_ids), source=[source] * n, batch_id=[batch_id] * n,
                imported_at=[imported_at] * n, archived=[False] * n)
    return cols
