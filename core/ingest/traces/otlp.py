"""OTLP JSON (what the OpenTelemetry Collector's file exporter, the SDK's JSON file exporter and
OTLP/HTTP JSON write): `resourceSpans → scopeSpans → spans`, attributes as `{key, value:
{stringValue|intValue|…}}`, ids as hex (the OTLP JSON rule) or base64 (protobuf's JSON mapping),
enums as numbers or names, camelCase or snake_case field names."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from core.ingest.traces.conventions import apply_conventions
from core.ingest.traces.jsonfile import JsonValue
from core.ingest.traces.messages import MessageShapeError
from core.ingest.traces.spans import Problem, Span

_VALUE_KEYS = {"stringValue": str, "string_value": str, "boolValue": bool, "bool_value": bool,
               "intValue": int, "int_value": int, "doubleValue": float, "double_value": float}
ERROR_CODES = (2, "2", "STATUS_CODE_ERROR", "ERROR", "Error")
RESOURCE_META = {"service.name": "service", "service.version": "service_version",
                 "deployment.environment": "environment",
                 "deployment.environment.name": "environment"}


def _get(raw: dict[str, Any], camel: str, snake: str) -> Any:
    value = raw.get(camel)
    return raw.get(snake) if value is None else value


def any_value(value: Any) -> Any:
    """An OTLP AnyValue → the Python value it holds."""
    if not isinstance(value, dict):
        return value
    for key, cast in _VALUE_KEYS.items():
        if key in value:
            return cast(value[key])
    array = _get(value, "arrayValue", "array_value")
    if array is not None:
        return [any_value(v) for v in (array.get("values") or [])]
    kvlist = _get(value, "kvlistValue", "kvlist_value")
    if kvlist is not None:
        return attributes(kvlist.get("values") or [])
    raw = _get(value, "bytesValue", "bytes_value")
    return raw if raw is not None else None


def attributes(raw: Any) -> dict[str, Any]:
    """An OTLP attribute list → {key: value}. ValueError naming the bad entry."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise ValueError(f"'attributes' must be a list of {{key, value}}, got {type(raw).__name__}")
    out = {}
    for i, kv in enumerate(raw):
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise ValueError(f"attributes[{i}] has no 'key'")
        out[kv["key"]] = any_value(kv.get("value"))
    return out


def decode_id(raw: Any, size: int) -> str | None:
    """A trace (16 bytes) or span (8 bytes) id, hex or base64 → lowercase hex; None if neither."""
    if not isinstance(raw, str) or not raw:
        return None
    if len(raw) == size * 2:
        try:
            bytes.fromhex(raw)
            return raw.lower()
        except ValueError:
            pass
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data.hex() if len(data) == size else None


def _nanos(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _error_of(raw: dict[str, Any]) -> str | None:
    status = raw.get("status") or {}
    if status.get("code") not in ERROR_CODES:
        return None
    for event in raw.get("events") or []:
        if isinstance(event, dict) and event.get("name") == "exception":
            attrs = attributes(event.get("attributes"))
            text = attrs.get("exception.message") or attrs.get("exception.type")
            if text:
                return str(status.get("message") or text)
    return str(status.get("message") or "error status")


def _span(raw: Any, resource: dict[str, Any], where: str, number: int, unit: str
          ) -> Span | Problem:
    if not isinstance(raw, dict):
        return Problem(None, where, f"a span must be an object, got {type(raw).__name__}", number, unit)
    trace_id = decode_id(_get(raw, "traceId", "trace_id"), 16)
    name = str(raw.get("name") or "")
    if trace_id is None:
        return Problem(None, where, f"span {name!r}: 'traceId' is missing or not a 16-byte id "
                                    "(32 hex digits or base64)", number, unit)
    span_id = decode_id(_get(raw, "spanId", "span_id"), 8)
    if span_id is None:
        return Problem(trace_id, where, f"span {name!r}: 'spanId' is missing or not an 8-byte "
                                        "id", number, unit)
    start = _nanos(_get(raw, "startTimeUnixNano", "start_time_unix_nano"))
    if start is None:
        return Problem(trace_id, where, f"span {name!r} ({span_id}): 'startTimeUnixNano' is "
                                        "missing or not a number", number, unit)
    parent = _get(raw, "parentSpanId", "parent_span_id")
    span = Span(trace_id=trace_id, span_id=span_id, name=name, kind="other", start_ns=start,
                parent_id=decode_id(parent, 8) if parent else None,
                end_ns=_nanos(_get(raw, "endTimeUnixNano", "end_time_unix_nano")), line=number,
                is_root=not parent)
    try:
        attrs = attributes(raw.get("attributes"))
        span.error = _error_of(raw)
        apply_conventions(span, attrs)
    except (ValueError, MessageShapeError) as e:
        return Problem(trace_id, where, f"span {name!r} ({span_id}): {e}", number, unit)
    if not parent:
        span.trace_meta = {**{m: resource[k] for k, m in RESOURCE_META.items() if k in resource},
                           "name": name, **span.trace_meta}
    return span


def otlp_spans(value: JsonValue) -> Iterator[Span | Problem]:
    """The spans of one export request (or of each request, when the value is a list)."""
    where = f"{value.unit} {value.number}"
    requests = value.value if isinstance(value.value, list) else [value.value]
    for request in requests:
        resource_spans = _get(request, "resourceSpans", "resource_spans") \
            if isinstance(request, dict) else None
        if not isinstance(resource_spans, list):
            yield Problem(None, where, "not an OTLP trace export: no 'resourceSpans' list",
                          value.number, value.unit)
            continue
        yield from _resource_spans(resource_spans, where, value.number, value.unit)


def _resource_spans(resource_spans: list[Any], where: str, number: int, unit: str
                    ) -> Iterator[Span | Problem]:
    for ri, rs in enumerate(resource_spans):
        try:
            resource = attributes(((rs or {}).get("resource") or {}).get("attributes"))
        except ValueError as e:
            yield Problem(None, where, f"resourceSpans[{ri}].resource: {e}", number, unit)
            continue
        scopes = _get(rs, "scopeSpans", "scope_spans") or rs.get("instrumentationLibrarySpans") or []
        for si, scope in enumerate(scopes):
            for pi, raw in enumerate((scope or {}).get("spans") or []):
                path = f"{where}, resourceSpans[{ri}].scopeSpans[{si}].spans[{pi}]"
                yield _span(raw, resource, path, number, unit)
