"""The import's fast path: plain checks that prove a record valid without pydantic, for the
shape almost every real row has. They only ever say "surely valid"; anything else (a wrong
type, list content, a function_call, an unusual key) goes to the pydantic model in
records.py, which writes the row-level messages. So messages never depend on this file."""

from __future__ import annotations

from typing import Any

_ROLES = frozenset(("system", "developer", "user", "assistant", "tool", "function"))
# Digits folded to "0" (bytes.translate: ~10x faster than a regex over 2 KB), so plain
# substring tests find a float token or a long integer.
_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
_LONG = b"0" * 19


def scan_numbers(line: bytes) -> tuple[bool, bool]:
    """(orjson reads it alike, it holds no float), from the JSON text alone. orjson reads an
    integer past 64 bits as a float where json keeps an int (hashes say which), so a run of
    19+ digits goes to json; a float needs a digit then '.', 'e' or 'E', so without one the
    value is plain (strings like "v2.0" only cost the slower canonical encoding). NaN, lone
    surrogates and whatever else orjson refuses raise, and the caller falls back to json."""
    folded = line.translate(_DIGITS)
    no_float = b"0." not in folded and b"0e" not in folded and b"0E" not in folded
    return _LONG not in folded, no_float


def _opt(value: Any, kind: type) -> bool:
    return value is None or type(value) is kind


def _tool_calls_ok(calls: Any) -> bool:
    if calls is None:
        return True
    if type(calls) is not list:
        return False
    for call in calls:
        if type(call) is not dict or not _opt(call.get("id"), str):
            return False
        if "type" in call and type(call["type"]) is not str:
            return False
        fn = call.get("function")
        if type(fn) is not dict or type(fn.get("name")) is not str:
            return False
        args = fn.get("arguments")
        if not (args is None or type(args) is str or type(args) is dict):
            return False
    return True


def _message_ok(m: Any) -> bool:
    if type(m) is not dict or "function_call" in m:
        return False
    role = m.get("role")
    if type(role) is not str or role not in _ROLES:
        return False
    content = m.get("content")
    if not (_opt(content, str) and _opt(m.get("name"), str) and _opt(m.get("tool_call_id"), str)):
        return False
    calls = m.get("tool_calls")
    return _tool_calls_ok(calls) and (content is not None or bool(calls))


def _context_ok(context: Any) -> bool:
    if context is None:
        return True
    return type(context) is list and all(
        type(d) is dict and type(d.get("text")) is str and _opt(d.get("source"), str)
        for d in context)


def surely_valid(record: Any) -> bool:
    """True only when the record passes the data contract's model (and its id is no bool)."""
    if type(record) is not dict:
        return False
    rid = record.get("id")
    if not ((type(rid) is str and rid.strip()) or type(rid) is int):
        return False
    messages = record.get("messages")
    if type(messages) is not list or not messages or not all(map(_message_ok, messages)):
        return False
    tools = record.get("tools")
    return (_opt(record.get("metadata"), dict) and _context_ok(record.get("context"))
            and (tools is None or (type(tools) is list and all(type(t) is dict for t in tools))))
