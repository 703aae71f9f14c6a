"""Browse: a filterable, paged table of transcripts with their labels and metadata.

Blindness, by the one visibility rule (core/store/visibility.py), for whoever looks (a reviewer
who has labeled nothing yet included): on an overlap item that still waits for its second
reviewer, one who has not labeled it never sees the first reviewer's label (nor the pre-label)
here, and filters on label or status cannot reveal it either: the row reads "pending second
review". Pre-labels the `prelabel_display` setting keeps back are blank too."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from core.labels.fields import visible_field_names
from core.labels.visibility import viewer_for
from core.store.browse import (
    HIDDEN_STATUS,
    BrowseQuery,
    common_metadata_fields,
    count_rows,
    fetch_rows,
    final_label_of,
    sources,
)
from core.store.connection import Database
from core.taxonomy import Taxonomy

if TYPE_CHECKING:  # pandas is imported where a table is made: Annotate imports this module
    import pandas as pd

STATUSES = ("unlabeled", "single", "agreed", "disagreement", "adjudicated", HIDDEN_STATUS)
OPEN_TRANSCRIPT_KEY = "open_transcript_id"  # session_state key the Annotate page reads
NO_LABEL = "—"


@dataclass(frozen=True)
class SeenLabel:
    """A transcript's final label (None: none yet, or a disagreement) and status, as one
    reviewer may see them; `mine` when that reviewer holds a label on it."""

    label: str | None
    status: str
    mine: bool


@dataclass(frozen=True)
class BrowsePage:
    """One page of the Browse table."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int
    meta_fields: tuple[str, ...]


def browse_query(db: Database, user: str, **filters) -> BrowseQuery:
    """Filters for `user`, who sees Browse as a reviewer (the visibility rule)."""
    cleaned = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in filters.items()
               if k != "include_archived"}
    if cleaned.get("meta_field") and not visible_field_names(db, user, [cleaned["meta_field"]]):
        cleaned["meta_field"] = cleaned["meta_value"] = None  # a hidden field filters nothing
    return BrowseQuery(viewer=viewer_for(db, user, reviewing=True),
                       include_archived=bool(filters.get("include_archived")), **cleaned)


def browse(db: Database, query: BrowseQuery, page: int = 1, page_size: int = 100,
           meta_fields: list[str] | None = None) -> BrowsePage:
    """Page `page` (1-based, clamped) of the transcripts matching `query`; metadata columns
    only of the fields `query.viewer` may see (reviewer_hidden_fields: admins see them all)."""
    fields = visible_field_names(db, query.viewer.user,
                                 common_metadata_fields(db) if meta_fields is None else meta_fields)
    page = max(1, page)
    rows = fetch_rows(db, query, fields, page_size, (page - 1) * page_size)
    if rows.empty and page > 1:  # past the end: count, then fetch the last page
        page = max(1, math.ceil(count_rows(db, query) / page_size))
        rows = fetch_rows(db, query, fields, page_size, (page - 1) * page_size)
    total = int(rows["_total"].iloc[0]) if not rows.empty else 0
    pages = max(1, math.ceil(total / page_size))
    return BrowsePage(rows.drop(columns="_total"), total, page, pages, tuple(fields))


def annotate_link(transcript_id: str) -> str:
    """The Annotate page's address for one transcript (relative, so it works behind any host)."""
    return "annotate?transcript=" + quote(transcript_id, safe="")


def with_label_names(rows: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    """The table as shown: the taxonomy's display names for label keys (a key it does not know
    stays as is), and a dash where there is no label."""
    import pandas as pd

    shown = rows.copy()
    shown.insert(0, "open", [annotate_link(str(t)) for t in rows["transcript_id"]])
    for column in ("final_label", "prelabel"):
        shown[column] = [NO_LABEL if pd.isna(k) else taxonomy.name_of(k) for k in rows[column]]
    return shown


def seen_label(db: Database, user: str, transcript_id: str) -> SeenLabel | None:
    """The final label of one transcript as `user` sees it in Browse (None: no such transcript)."""
    row = final_label_of(db, browse_query(db, user), transcript_id)
    return None if row is None else SeenLabel(*row)


def transcripts_phrase(n: int) -> str:
    """'1 transcript', '1,234 transcripts'."""
    return f"{n:,} transcript{'' if n == 1 else 's'}"


def filter_fields(db: Database, user: str, limit: int = 20) -> list[str]:
    """The metadata fields Browse offers `user` to filter on (hidden ones only to admins)."""
    return visible_field_names(db, user, common_metadata_fields(db, limit))


__all__ = ["STATUSES", "BrowsePage", "BrowseQuery", "browse", "browse_query",
           "common_metadata_fields", "filter_fields", "sources", "OPEN_TRANSCRIPT_KEY",
           "NO_LABEL", "SeenLabel", "annotate_link", "seen_label", "transcripts_phrase",
           "with_label_names"]
