"""Live pulls (`triage import --from langfuse|langsmith`): read traces newer than the watermark
from the service, import them as one batch like a file, then move the watermark to the newest
trace stored. A trace is taken only when it is whole (its root span is among the results) and
started before the settle lag, so a trace still running waits for the next pull."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.config import Settings
from core.errors import UsageError
from core.ingest.pipeline import ImportResult, import_rows, source_name
from core.ingest.readers import RawRow
from core.ingest.traces.clients import PullFilters, langfuse_observations, langsmith_runs
from core.ingest.traces.jsonfile import JsonValue
from core.ingest.traces.langfuse import langfuse_items
from core.ingest.traces.langsmith import langsmith_items
from core.ingest.traces.reader import TraceGroup, TraceRow, assemble
from core.ingest.traces.spans import ns_from_iso
from core.store.connection import Database, utcnow
from core.store.watermarks import Watermark, latest_watermark, record_watermark

SYSTEMS = ("langfuse", "langsmith")
SETTLE = timedelta(minutes=5)


@dataclass(frozen=True)
class PullRequest:
    """One pull: from which system, the filters, where the traces go."""

    system: str
    filters: PullFilters = PullFilters()
    until: datetime | None = None
    limit: int | None = None
    project: str | None = None
    full: bool = False  # ignore the watermark (a backfill; duplicates are still skipped)
    source: str | None = None
    group_by: str = "trace"


@dataclass
class PullResult:
    """What a pull read and what it imported."""

    system: str
    where: str
    since: datetime | None
    items_read: int = 0
    traces_found: int = 0
    partial: int = 0
    too_recent: int = 0
    over_limit: int = 0
    imported: ImportResult | None = None
    watermark: datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.imported.exit_code if self.imported else 0

    def summary(self) -> list[str]:
        """The lines the CLI prints."""
        since = f"from {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since else "from the start"
        lines = [f"{self.system} pull of {self.where}, {since}: {self.items_read:,} "
                 f"{'observations' if self.system == 'langfuse' else 'runs'} read, "
                 f"{self.traces_found:,} traces"]
        skipped = [(self.partial, "incomplete (their root started before the window: pull "
                                  "with --since earlier to get them whole)"),
                   (self.too_recent, "started in the last minutes or after --until (next pull)"),
                   (self.over_limit, "over --limit (next pull)")]
        lines += [f"  skipped {n:,} {why}" for n, why in skipped if n]
        lines += self.notes
        if self.imported:
            lines += self.imported.summary()
        if self.watermark:
            when = f"{self.watermark:%Y-%m-%d %H:%M:%S.%f}"
            lines.append(f"watermark: newest trace stored started {when} UTC; the next pull "
                         "starts there")
        return lines


def _scope(request: PullRequest, where: str) -> str:
    f = request.filters
    return json.dumps({"where": where, "project": request.project, "tags": sorted(f.tags),
                       "name": f.name, "filter": f.expression, "group_by": request.group_by},
                      sort_keys=True)


def _fetch(request: PullRequest, settings: Settings, filters: PullFilters) -> Iterator[dict]:
    if request.system == "langfuse":
        if not (settings.langfuse_public_key and settings.langfuse_secret_key):
            raise UsageError("`--from langfuse` needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY "
                             "in the environment (keys are never taken on the command line)")
        return langfuse_observations(settings.langfuse_host, settings.langfuse_public_key,
                                     settings.langfuse_secret_key, filters)
    if not settings.langsmith_api_key:
        raise UsageError("`--from langsmith` needs LANGSMITH_API_KEY in the environment (keys "
                         "are never taken on the command line)")
    return langsmith_runs(settings.langsmith_endpoint, settings.langsmith_api_key,
                          request.project or "", filters)


def _where(request: PullRequest, settings: Settings) -> str:
    if request.system == "langfuse":
        return settings.langfuse_host.rstrip("/")
    return f"{settings.langsmith_endpoint.rstrip('/')} project {request.project!r}"


class _Window:
    """Which traces a pull takes, and the counts of those it leaves."""

    def __init__(self, result: PullResult, until: datetime) -> None:
        self.result = result
        self.until_ns = ns_from_iso(until) or 0
        self.starts: dict[str, int] = {}

    def keep(self, group: TraceGroup) -> bool:
        self.result.traces_found += 1
        if group.spans and not any(s.is_root for s in group.spans):
            self.result.partial += 1
            return False
        start = group.start_ns or 0
        if start >= self.until_ns:
            self.result.too_recent += 1
            return False
        self.starts[group.key] = start
        return True


def _items(request: PullRequest, raw: Iterable[dict], result: PullResult) -> Iterator:
    read = langfuse_items if request.system == "langfuse" else langsmith_items
    for number, item in enumerate(raw, 1):
        result.items_read = number
        yield from read(JsonValue("item", number, item, ""))


def _limited(rows: Iterable[TraceRow], window: _Window, limit: int | None,
             result: PullResult) -> Iterable[TraceRow]:
    """With --limit, the oldest traces first, so the next pull goes on where this one stopped."""
    if limit is None:
        return rows
    ordered = sorted(rows, key=lambda r: window.starts.get(_key_of(r), 0))
    result.over_limit = max(0, sum(1 for r in ordered if r.unit == "trace") - limit)
    kept, n = [], 0
    for row in ordered:
        if row.unit == "trace":
            n += 1
            if n > limit:
                window.starts.pop(_key_of(row), None)
                continue
        kept.append(row)
    return kept


def _key_of(row: TraceRow) -> str:
    return json.loads(row.text).get("trace", "") if row.text.startswith("{") else ""


def pull(db: Database, settings: Settings, request: PullRequest, *, rejects: Path | None = None,
         imported_by: str | None = None) -> PullResult:
    """Run one live pull into `db`; returns what it read and imported (its exit code: as a
    file import's, 0 when there was nothing new)."""
    if request.system not in SYSTEMS:
        raise UsageError(f"unknown --from {request.system!r}; use one of {', '.join(SYSTEMS)}")
    if request.system == "langsmith" and not request.project:
        raise UsageError("`--from langsmith` needs a project: --project NAME or LANGSMITH_PROJECT")
    where, source = _where(request, settings), source_name(request.source)
    scope = _scope(request, where)
    mark = None if request.full else latest_watermark(db, request.system, scope, source)
    since = request.filters.since
    if mark and (since is None or mark.newest_trace_at > since):
        since = mark.newest_trace_at
    result = PullResult(request.system, where, since)
    filters = replace(request.filters, since=since.replace(tzinfo=UTC) if since else None)
    until = request.until or (datetime.now(UTC) - SETTLE)
    window = _Window(result, until)
    items = _items(request, _fetch(request, settings, filters), result)
    rows = _limited(assemble(items, request.system, request.group_by, keep=window.keep),
                    window, request.limit, result)
    raw = (RawRow(r.number, r.unit, r.value, r.text, r.error) for r in rows)
    result.imported = _import(db, raw, request, where, source, rejects, imported_by, result)
    if result.imported is not None and window.starts:
        newest = datetime.fromtimestamp(max(window.starts.values()) / 1e9, UTC).replace(tzinfo=None)
        if mark is None or newest > mark.newest_trace_at:
            record_watermark(db, Watermark(request.system, scope, source, newest,
                                           len(window.starts), result.imported.batch_id,
                                           imported_by, utcnow()))
            result.watermark = newest
    return result


def _import(db: Database, rows: Iterable[RawRow], request: PullRequest, where: str, source: str,
            rejects: Path | None, imported_by: str | None, result: PullResult
            ) -> ImportResult | None:
    first = next(iter(rows := iter(rows)), None)
    if first is None:
        result.notes.append("nothing new to import")
        return None
    return import_rows(db, _prepend(first, rows), file_name=f"{request.system} pull ({where})",
                       fmt=request.system, source=source, rejects=rejects,
                       imported_by=imported_by)


def _prepend(first: RawRow, rest: Iterator[RawRow]) -> Iterator[RawRow]:
    yield first
    yield from rest
