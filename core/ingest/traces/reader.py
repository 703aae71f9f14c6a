"""Trace files → one row per trace (or per session): the entry point the import's readers call.

Every format's items (spans, trace-level facts, problems) are grouped by trace id in bounded
memory (grouping.py), optionally regrouped by session, and each group becomes one transcript
record (transcript.py) or one rejected row that names the trace and the lines it came from."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from core.ingest.records import RowError
from core.ingest.traces.grouping import SpillGrouper
from core.ingest.traces.jsonfile import JsonValue, Progress, first_value, json_values
from core.ingest.traces.langfuse import langfuse_items
from core.ingest.traces.langsmith import is_runs_parquet, langsmith_items, parquet_runs
from core.ingest.traces.messages import RESPONSE_ITEM_TYPES
from core.ingest.traces.otlp import otlp_spans
from core.ingest.traces.responses import response_items
from core.ingest.traces.spans import Problem, Span, TraceFacts, span_from_dict
from core.ingest.traces.transcript import TraceRejected, build_record

TRACE_FORMATS = ("otlp", "langfuse", "langsmith", "responses")
GROUP_BY = ("trace", "session")
Item = Span | Problem | TraceFacts
_READERS: dict[str, Callable[[JsonValue], Iterator[Item]]] = {
    "otlp": otlp_spans, "langfuse": langfuse_items, "langsmith": langsmith_items,
    "responses": response_items}


@dataclass(frozen=True)
class TraceRow:
    """One trace (or session) as a record, or why it was rejected; `text` says where it came
    from (for the rejects file). `unit` is 'trace', or 'line'/'item'/'row' for input that
    names no trace."""

    number: int
    unit: str
    value: dict[str, Any] | None
    text: str
    error: RowError | None = None


@dataclass
class TraceGroup:
    """Everything read for one trace (or, after regrouping, one session)."""

    key: str
    trace_ids: list[str]
    spans: list[Span] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    facts: list[TraceFacts] = field(default_factory=list)

    @property
    def session_id(self) -> str | None:
        for source in (*self.facts, *sorted(self.spans, key=lambda s: s.sort_key)):
            if source.session_id:
                return str(source.session_id)
        return None

    @property
    def start_ns(self) -> int | None:
        return min((s.start_ns for s in self.spans), default=None)


def _is_items_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and (
        value[0].get("type") in RESPONSE_ITEM_TYPES or "role" in value[0])


def sniff_value(value: Any) -> str | None:
    """The trace format a parsed value is written in; None when it is none of them."""
    if _is_items_array(value):
        return "responses"
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, dict):
        return None
    keys = set(value)
    if keys & {"resourceSpans", "resource_spans"}:
        return "otlp"
    if "messages" in keys and "id" in keys:
        return None  # a transcript record
    if "run_type" in keys and keys & {"trace_id", "dotted_order"}:
        return "langsmith"
    if "observations" in keys or isinstance(value.get("trace"), dict) or (
            isinstance(value.get("data"), list) and "meta" in keys) or (
            "type" in keys and keys & {"traceId", "trace_id"} and keys & {"startTime", "start_time"}):
        return "langfuse"
    if "id" in keys and keys & {"input", "output"} and (
            value.get("object") == "response" or isinstance(value.get("output"), list)):
        return "responses"
    return None


def sniff_file(path: Path, parquet_columns: list[str] | None = None) -> str | None:
    """The trace format of a file, from its first value (or a Parquet file's columns)."""
    if parquet_columns is not None:
        return "langsmith" if is_runs_parquet(parquet_columns) else None
    try:
        return sniff_value(first_value(path))
    except (OSError, UnicodeDecodeError):
        return None


def trace_items(path: Path, fmt: str, progress: Progress | None = None,
                max_values: int | None = None) -> Iterator[Item]:
    """Spans, facts and problems of a trace file, in file order."""
    with path.open("rb") as f:
        parquet = f.read(4) == b"PAR1"
    if fmt == "langsmith" and parquet:
        yield from parquet_runs(path, progress)
        return
    read = _READERS[fmt]
    values = json_values(path, progress, whole=_is_items_array if fmt == "responses" else None)
    for value in itertools.islice(values, max_values):
        if value.error:
            yield Problem(None, f"{value.unit} {value.number}", value.error, value.number,
                          value.unit, value.text)
        else:
            yield from read(value)


def _groups(grouper: SpillGrouper) -> Iterator[TraceGroup]:
    for key, items in grouper.groups():
        group = TraceGroup(key, [key])
        for tag, data in items:
            if tag == "s":
                group.spans.append(span_from_dict(data))
            elif tag == "p":
                group.problems.append(f"{data['where']}: {data['message']}")
            else:
                group.facts.append(TraceFacts(**data))
        yield group


def _by_session(groups: Iterable[TraceGroup], grouper: SpillGrouper) -> Iterator[TraceGroup]:
    for group in groups:
        grouper.add(group.session_id or group.key, group)
    for key, items in grouper.groups():
        parts = sorted(items, key=lambda g: min((s["start_ns"] for s in g["spans"]), default=0))
        merged = TraceGroup(key, [g["key"] for g in parts])
        for g in parts:
            merged.spans += [span_from_dict(s) for s in g["spans"]]
            merged.problems += g["problems"]
            merged.facts += [TraceFacts(**f) for f in g["facts"]]
        yield merged


def _where(group: TraceGroup) -> str:
    lines = sorted({s.line for s in group.spans if s.line})
    return orjson.dumps({"trace": group.key, "trace_ids": group.trace_ids[:20],
                         "spans": len(group.spans), "lines": lines[:50],
                         "span_names": sorted({s.name for s in group.spans})[:20],
                         "problems": group.problems[:20]}).decode()


def _row(number: int, group: TraceGroup, fmt: str) -> TraceRow:
    text = _where(group)
    if not group.spans and not group.problems:
        message = (f"trace {group.key}: only trace-level data, no spans or observations; "
                   "nothing to show as a conversation")
        return TraceRow(number, "trace", None, text, RowError(number, None, message, "trace"))
    try:
        record = build_record(group.key, group.spans, fmt, group.trace_ids, group.problems)
    except TraceRejected as e:
        return TraceRow(number, "trace", None, text, RowError(number, None, str(e), "trace"))
    meta = record["metadata"]
    for facts in group.facts:
        for key, value in facts.meta.items():
            meta.setdefault(key, value)
        for key in ("session_id", "user_id"):
            if getattr(facts, key) and key not in meta:
                meta[key] = getattr(facts, key)
    return TraceRow(number, "trace", record, text)


def _input_row(problem: Problem) -> TraceRow:
    """A problem that names no trace rejects the line (item, row) it is on."""
    inside = problem.where.partition(", ")[2]  # e.g. resourceSpans[0].scopeSpans[0].spans[3]
    message = f"{inside}: {problem.message}" if inside else problem.message
    return TraceRow(problem.number, problem.unit, None, problem.text or problem.where,
                    RowError(problem.number, None, message, problem.unit))


def assemble(items: Iterable[Item], fmt: str, group_by: str = "trace",
             keep: Callable[[TraceGroup], bool] | None = None) -> Iterator[TraceRow]:
    """Items of any order → one row per trace (or session), after all items are read.
    `keep` drops groups before they are built (a live pull's incomplete traces)."""
    grouper, sessions = SpillGrouper(), SpillGrouper()
    try:
        for item in items:
            if isinstance(item, Problem) and item.trace_id is None:
                yield _input_row(item)
            elif isinstance(item, Span):
                grouper.add(item.trace_id, ("s", item))
            elif isinstance(item, Problem):
                grouper.add(item.trace_id, ("p", {"where": item.where, "message": item.message}))
            else:
                grouper.add(item.trace_id, ("f", item))
        groups: Iterable[TraceGroup] = _groups(grouper)
        if group_by == "session":
            groups = _by_session(groups, sessions)
        number = 0
        for group in groups:
            if keep is None or keep(group):
                number += 1
                yield _row(number, group, fmt)
    finally:
        grouper.close()
        sessions.close()


def read_traces(path: Path, fmt: str, group_by: str = "trace", progress: Progress | None = None,
                max_values: int | None = None) -> Iterator[TraceRow]:
    """Every trace of the file as a row (max_values: read only the first values, a preview)."""
    return assemble(trace_items(path, fmt, progress, max_values), fmt, group_by)
