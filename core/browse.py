"""Browse: a filterable, paged table of transcripts with their labels and metadata.

Blindness: on an overlap item that still waits for its second reviewer, a reviewer who has not
labeled it never sees the first reviewer's label (nor the pre-label) here, and filters on label
or status cannot reveal it either: the row reads "pending second review"."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from core.db import Database
from core.queues import is_overlap  # the queues' rule; Browse evaluates it in SQL too
from core.storage.browse import (
    HIDDEN_STATUS,
    BrowseQuery,
    common_metadata_fields,
    count_rows,
    fetch_rows,
    sources,
)
from core.storage.settings import get_setting

STATUSES = ("unlabeled", "single", "agreed", "disagreement", "adjudicated", HIDDEN_STATUS)
OPEN_TRANSCRIPT_KEY = "open_transcript_id"  # session_state key the Annotate page reads


@dataclass(frozen=True)
class BrowsePage:
    """One page of the Browse table."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int
    meta_fields: tuple[str, ...]


def browse_query(db: Database, user: str, **filters) -> BrowseQuery:
    """Filters for `user`, with the overlap seed and share from the settings."""
    cleaned = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in filters.items()
               if k != "include_archived"}
    return BrowseQuery(user=user, seed=int(get_setting(db, "queue_seed")),
                       overlap_share=float(get_setting(db, "overlap_share")),
                       include_archived=bool(filters.get("include_archived")), **cleaned)


def browse(db: Database, query: BrowseQuery, page: int = 1, page_size: int = 100,
           meta_fields: list[str] | None = None) -> BrowsePage:
    """Page `page` (1-based, clamped) of the transcripts matching `query`."""
    fields = common_metadata_fields(db) if meta_fields is None else meta_fields
    page = max(1, page)
    rows = fetch_rows(db, query, fields, page_size, (page - 1) * page_size)
    if rows.empty and page > 1:  # past the end: count, then fetch the last page
        page = max(1, math.ceil(count_rows(db, query) / page_size))
        rows = fetch_rows(db, query, fields, page_size, (page - 1) * page_size)
    total = int(rows["_total"].iloc[0]) if not rows.empty else 0
    pages = max(1, math.ceil(total / page_size))
    return BrowsePage(rows.drop(columns="_total"), total, page, pages, tuple(fields))


__all__ = ["STATUSES", "BrowsePage", "BrowseQuery", "browse", "browse_query",
           "common_metadata_fields", "is_overlap", "sources", "OPEN_TRANSCRIPT_KEY"]
