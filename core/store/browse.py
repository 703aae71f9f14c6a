"""SQL of the Browse table: one page of transcripts with final label, pre-label and metadata,
filtered and paged in the database (LIMIT/OFFSET), never loading every row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.store.connection import Database
from core.store.prelabels import PRELABELERS_SQL
from core.store.visibility import Viewer, hidden_sql, params

if TYPE_CHECKING:  # duckdb makes the frame; the pages need not import pandas to draw
    import pandas as pd

HIDDEN_STATUS = "pending second review"

_ROWS = f"""
WITH pre AS (
    SELECT transcript_id, arg_max(primary_label, created_at) AS prelabel,
           arg_max(confidence, created_at) AS confidence
    FROM prelabels WHERE status = 'ok' AND {PRELABELERS_SQL} GROUP BY transcript_id
), mine AS (
    SELECT DISTINCT transcript_id FROM current_labels WHERE kind = 'label' AND annotator = $user
), hidden AS ({hidden_sql()}
), visible AS (
    SELECT t.transcript_id, t.source, t.metadata, t.messages, t.context, t.archived,
           t.n_messages, t.imported_at, m.transcript_id IS NOT NULL AS mine,
           CASE WHEN h.labels_hidden THEN NULL ELSE f.primary_label END AS final_label,
           CASE WHEN h.labels_hidden THEN '{HIDDEN_STATUS}'
                ELSE coalesce(f.status, 'unlabeled') END AS status,
           CASE WHEN h.prelabels_hidden THEN NULL ELSE p.prelabel END AS prelabel,
           CASE WHEN h.prelabels_hidden THEN NULL ELSE p.confidence END AS confidence
    FROM transcripts t
    LEFT JOIN final_labels f USING (transcript_id)
    LEFT JOIN pre p USING (transcript_id)
    LEFT JOIN mine m USING (transcript_id)
    LEFT JOIN hidden h USING (transcript_id)
)
"""

# The text a reviewer reads: the content and tool calls of every message but the system and
# developer prompts (the same in every transcript of a deployment, so a word in them would match
# them all), then the retrieved context. ->> unescapes, so quotes in the text match as typed.
SEARCHABLE_SQL = """lower(concat_ws(' ',
    list_aggregate(list_transform(
        list_filter(CAST(messages AS JSON[]),
                    lambda m: coalesce(m->>'role', '') NOT IN ('system', 'developer')),
        lambda m: concat_ws(' ', m->>'content', CAST(m->'tool_calls' AS VARCHAR))),
        'string_agg', ' '),
    list_aggregate(list_transform(CAST(context AS JSON[]),
                                  lambda d: coalesce(d->>'text', d->>'$')), 'string_agg', ' ')))"""

_WHERE = f"""
WHERE ($archived OR NOT archived)
  AND ($source IS NULL OR source = $source)
  AND ($status IS NULL OR status = $status)
  AND ($label IS NULL OR final_label = $label)
  AND ($prelabel IS NULL OR prelabel = $prelabel)
  AND ($meta_path IS NULL OR json_extract_string(metadata, $meta_path) = $meta_value)
  AND ($text IS NULL OR contains({SEARCHABLE_SQL}, lower($text)))
"""


@dataclass(frozen=True)
class BrowseQuery:
    """Filters of the Browse table (None: no filter on that column)."""

    viewer: Viewer  # whose view: the visibility rule (core/store/visibility.py)
    source: str | None = None
    status: str | None = None
    label: str | None = None
    prelabel: str | None = None
    meta_field: str | None = None
    meta_value: str | None = None
    text: str | None = None
    include_archived: bool = False


def json_path(field: str) -> str:
    """A JSONPath naming one top-level metadata key literally (dots and quotes included)."""
    return '$."' + field.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _params(q: BrowseQuery) -> dict[str, Any]:
    meta = q.meta_field if q.meta_field and q.meta_value else None  # no value yet: no filter
    return params(q.viewer) | {
            "archived": q.include_archived,
            "source": q.source, "status": q.status, "label": q.label, "prelabel": q.prelabel,
            "meta_path": json_path(meta) if meta else None, "meta_value": q.meta_value,
            "text": q.text or None}


def count_rows(db: Database, q: BrowseQuery) -> int:
    """How many transcripts match the filters."""
    return db.con.execute(_ROWS + "SELECT count(*) FROM visible" + _WHERE, _params(q)).fetchone()[0]


def fetch_rows(db: Database, q: BrowseQuery, meta_fields: list[str], limit: int,
               offset: int) -> pd.DataFrame:
    """One page of matching transcripts; metadata fields become `meta.<field>` columns, and
    `_total` holds how many rows match in all (computed in the same pass)."""
    params = _params(q) | {"limit": limit, "offset": offset}
    meta_cols = []
    for i, name in enumerate(meta_fields):
        params[f"m{i}"] = json_path(name)
        meta_cols.append(f"json_extract_string(metadata, $m{i}) AS m{i}")
    select = ", ".join(["transcript_id", "source", "final_label", "status", "prelabel",
                        "confidence", "n_messages", "imported_at", "archived", *meta_cols,
                        "count(*) OVER () AS _total"])
    df = db.con.execute(
        _ROWS + f"SELECT {select} FROM visible" + _WHERE +
        "ORDER BY source, transcript_id LIMIT $limit OFFSET $offset", params).df()
    return df.rename(columns={f"m{i}": f"meta.{n}" for i, n in enumerate(meta_fields)})


def final_label_of(db: Database, q: BrowseQuery,
                   transcript_id: str) -> tuple[str | None, str, bool] | None:
    """(final label, status, whether `q.viewer` holds a label) of one transcript, as they
    sees them in the table (the blindness rule applies); None when there is no such transcript."""
    return db.con.execute(
        _ROWS + "SELECT final_label, status, mine FROM visible WHERE transcript_id = $tid",
        params(q.viewer) | {"tid": transcript_id},
    ).fetchone()


def common_metadata_fields(db: Database, limit: int = 8, scan: int = 5000) -> list[str]:
    """The metadata keys most transcripts carry (from the first `scan` rows), most common first."""
    rows = db.con.execute(
        "SELECT k FROM (SELECT unnest(json_keys(metadata)) AS k FROM "
        "(SELECT metadata FROM transcripts LIMIT ?)) GROUP BY k ORDER BY count(*) DESC, k LIMIT ?",
        [scan, limit]).fetchall()
    return [r[0] for r in rows]


def sources(db: Database) -> list[str]:
    """Every source name, sorted."""
    return [r[0] for r in db.con.execute(
        "SELECT DISTINCT source FROM transcripts ORDER BY 1").fetchall()]
