"""The import's fast path (orjson, plain checks before pydantic) stores exactly what the slow
path stores: same canonical JSON, same content_hash, same row-level messages."""

from __future__ import annotations

import json

import pytest

from core.ingest.fastcheck import scan_numbers, surely_valid
from core.ingest.readers import parse_jsonl_line
from core.ingest.records import _Record, prepare
from core.ingest.rows import checked_rows

LINES = [
    '{"id": 1, "messages": [{"role": "user", "content": "a"}], "id": 2}',
    '{"id": "x", "messages": [{"role": "user", "content": "v2.0 \\u00e9 \\ud83d\\ude00", '
    '"score": 1.5}], "metadata": {"b": 1, "a": 1e5}}',
    '{"id": "y", "messages": [{"role": "user", "content": "n", "n": 123456789012345678901234567890}]}',
    '{"id": "z", "messages": [{"role": "user", "content": NaN}]}',
    '{"id": true, "messages": [{"role": "user", "content": "b"}]}',
    '{"id": "w", "messages": [{"role": ["user"], "content": "b"}]}',
    '{"id": "v", "messages": [{"role": "assistant", "content": null, "tool_calls": []}]}',
    '{"id": "u", "messages": [{"role": "assistant", "content": [{"type": "text", "text": "hi"}]}], '
    '"extra": {"k": [1, 2]}, "context": [{"text": "t", "source": null}]}',
    '{"id": "s", "messages": [{"role": "user", "content": "a\\ud800b"}]}',
    '{"id": " ", "messages": [{"role": "user", "content": "b"}]}',
    '{"id": "t", "messages": [{"role": "tool", "content": "r", "name": null, "tool_call_id": 5}]}',
    '{"id": "q", "messages": [{"role": "assistant", "content": "x", "tool_calls": [{"function": '
    '{"name": "f", "arguments": {"a": "b"}}, "type": null}]}]}',
    '{"id": "p", "messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "c1", '
    '"function": {"name": "f", "arguments": "{}"}}]}], "tools": [{"type": "function"}]}',
]


def _slow(number: int, line: str):
    """What the import made of a line before the fast path: json.loads, pydantic, walk."""
    raw = parse_jsonl_line(number, line.encode())
    slow = type(raw)(raw.number, raw.unit, json.loads(line), raw.text)
    return next(checked_rows([slow], "jsonl", {}))[1]


@pytest.mark.parametrize(("number", "line"), list(enumerate(LINES, 1)))
def test_fast_path_stores_and_rejects_exactly_as_the_slow_path(number, line):
    fast = next(checked_rows([parse_jsonl_line(number, line.encode())], "jsonl", {}))[1]
    assert fast == _slow(number, line)


@pytest.mark.parametrize("line", LINES)
def test_surely_valid_never_passes_what_the_model_refuses(line):
    record = json.loads(line)
    if surely_valid(record):
        _Record.model_validate(record)  # raises if the fast check was wrong
        assert not isinstance(record["id"], bool)


def test_scan_numbers_finds_floats_and_long_integers():
    assert scan_numbers(b'{"a": 1, "b": "x"}') == (True, True)
    assert scan_numbers(b'{"a": 1.5}') == (True, False)
    assert scan_numbers(b'{"a": 2E3}') == (True, False)
    assert scan_numbers(b'{"a": 12345678901234567890}') == (False, True)


def test_prepare_plain_matches_the_checked_encoding():
    record = json.loads(LINES[12])
    assert prepare(record, plain=True) == prepare(record)
