"""Live pulls through the official SDKs (the optional `[traces]` extra): Langfuse's
Observations API v2 with cursor paging, LangSmith's `Client.list_runs`. Keys are handed to
the SDK client only; no message here ever contains one."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import TriageError, UsageError

LANGFUSE_FIELDS = "core,basic,io,model,usage,trace_context"
LANGFUSE_PAGE = 1000  # the API's maximum page size
TIMEOUT_SECONDS = 60.0


class PullFailed(TriageError):
    """A live pull could not read from the tracing service (unreachable, keys refused)."""


@dataclass(frozen=True)
class PullFilters:
    """What a pull asks for: from when (the watermark or --since), tags and trace name all
    must match; `expression` is LangSmith's own filter language, passed as given."""

    since: datetime | None = None
    tags: tuple[str, ...] = ()
    name: str | None = None
    expression: str | None = None


class _NoKeyRecords(logging.Filter):
    """Drops SDK log records that quote an API key, even masked (langsmith logs its first five
    and last two characters when a request fails)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "API Key" not in record.getMessage()


@contextmanager
def _quiet_sdk(name: str) -> Iterator[None]:
    logger, keys = logging.getLogger(name), _NoKeyRecords()
    logger.addFilter(keys)
    try:
        with warnings.catch_warnings():
            # list_runs is what the docs and exports name (Run JSONL); its successor,
            # runs.query, needs LangSmith 0.16+ on self-hosted deployments.
            warnings.filterwarnings("ignore", message=r"list_runs\(\) is deprecated")
            yield
    finally:
        logger.removeFilter(keys)


def missing_sdk(package: str) -> UsageError:
    """The error for a pull whose SDK is not installed."""
    return UsageError(f"`--from {package}` needs the {package} SDK, which is not installed: "
                      f"pip install 'triage[traces]' (or pip install {package})")


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def langfuse_filter(filters: PullFilters) -> str | None:
    """The Observations API's `filter` JSON for tags and trace name (None when neither)."""
    conditions: list[dict[str, Any]] = []
    if not filters.tags and not filters.name:
        return None
    if filters.since:
        conditions.append({"type": "datetime", "column": "startTime", "operator": ">=",
                           "value": _iso(filters.since)})
    if filters.tags:
        conditions.append({"type": "arrayOptions", "column": "tags", "operator": "all of",
                           "value": list(filters.tags)})
    if filters.name:
        conditions.append({"type": "string", "column": "traceName", "operator": "=",
                           "value": filters.name})
    return json.dumps(conditions)


def langfuse_observations(host: str, public_key: str, secret_key: str, filters: PullFilters
                          ) -> Iterator[dict[str, Any]]:
    """Every observation from `filters.since` on, page after page (the cursor), as dicts."""
    try:
        from langfuse.api import LangfuseAPI
        from langfuse.api.core.api_error import ApiError
        from langfuse.api.core.jsonable_encoder import jsonable_encoder
    except ImportError as e:
        raise missing_sdk("langfuse") from e
    import httpx

    client = LangfuseAPI(base_url=host.rstrip("/"), username=public_key, password=secret_key,
                         timeout=TIMEOUT_SECONDS, x_langfuse_sdk_name="triage")
    cursor: str | None = None
    while True:
        try:
            page = client.observations.get_many(
                fields=LANGFUSE_FIELDS, limit=LANGFUSE_PAGE, cursor=cursor,
                from_start_time=filters.since, filter=langfuse_filter(filters))
        except ApiError as e:
            raise PullFailed(_refused("Langfuse", host, e.status_code,
                                      "LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY")) from None
        except httpx.HTTPError as e:
            raise PullFailed(f"cannot reach Langfuse at {host} ({type(e).__name__}); check "
                             "LANGFUSE_HOST and the network") from None
        for observation in page.data:
            yield jsonable_encoder(observation)  # the API's own camelCase field names
        cursor = page.meta.cursor
        if not cursor or not page.data:
            return


def _refused(system: str, where: str, status: int | None, keys: str) -> str:
    if status in (401, 403):
        return f"{system} at {where} refused the keys (HTTP {status}): check {keys}"
    return f"{system} at {where} answered HTTP {status}; nothing imported"


def langsmith_filters(filters: PullFilters) -> str | None:
    """LangSmith's trace_filter for tags and trace name (None when neither)."""
    parts = [f"has(tags, {json.dumps(tag)})" for tag in filters.tags]
    if filters.name:
        parts.append(f"eq(name, {json.dumps(filters.name)})")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else f"and({', '.join(parts)})"


def langsmith_runs(endpoint: str, api_key: str, project: str, filters: PullFilters
                   ) -> Iterator[dict[str, Any]]:
    """Every run of the project from `filters.since` on (the SDK pages), as dicts."""
    try:
        from langsmith import Client
        from langsmith.utils import LangSmithAuthError, LangSmithError, LangSmithNotFoundError
    except ImportError as e:
        raise missing_sdk("langsmith") from e
    try:
        with _quiet_sdk("langsmith"):
            client = Client(api_url=endpoint.rstrip("/"), api_key=api_key,
                            timeout_ms=int(TIMEOUT_SECONDS * 1000), auto_batch_tracing=False)
            runs = client.list_runs(project_name=project, start_time=filters.since,
                                    filter=filters.expression,
                                    trace_filter=langsmith_filters(filters))
            for run in runs:
                yield run.model_dump(mode="json")
    except LangSmithAuthError:
        raise PullFailed(_refused("LangSmith", endpoint, 401, "LANGSMITH_API_KEY")) from None
    except LangSmithNotFoundError:
        raise PullFailed(f"LangSmith at {endpoint} has no project {project!r} (check "
                         "--project / LANGSMITH_PROJECT)") from None
    except LangSmithError as e:
        raise PullFailed(f"LangSmith at {endpoint}: {type(e).__name__}; nothing imported") from None
