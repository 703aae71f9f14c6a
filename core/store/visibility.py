"""The visibility rule, written once: which labels and pre-labels a user must not read.

For a user who is a reviewer (has saved a label of any transcript):
- labels of a transcript are hidden while it is an overlap item still open for blind
  double-labeling (exactly one reviewer labeled it, not this user);
- pre-labels of a transcript are hidden where its labels are; on every overlap item this user
  has not labeled while it waits for its second label (Annotate shows those blind whatever the
  setting: core.labels.annotate.prelabel_mode); and, unless `prelabel_display` is `shown`, on
  every transcript this user has not labeled yet (blind: revealed after the save; hidden: never
  shown before one's own label).
A user who has labeled nothing sees everything, except where `reviewing` says they are about to
label (Browse, the page reviewers pick items from: a new reviewer must not read the first label
of an item they will label second). The SQL page's sandbox applies the rule to the
base tables (LABEL_TABLES, PRELABEL_TABLES) and re-creates every view over the filtered tables,
so a view added later is filtered without knowing about the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from core.store.connection import Database
from core.store.overlap import overlap_sql

# Base tables whose rows carry a label or pre-label of one transcript (transcript_id column).
LABEL_TABLES = ("annotations",)
PRELABEL_TABLES = ("prelabels", "prelabel_folds")
# Views the exports read directly (the sandbox re-creates views over the filtered tables).
LABEL_VIEWS = ("current_labels", "live_annotations", "final_labels")


@dataclass(frozen=True)
class Viewer:
    """Who reads, and the settings the rule depends on."""

    user: str
    seed: int
    share: float
    prelabel_display: str = "shown"
    reviewing: bool = False  # the rule holds before this user's first label too


def hidden_sql(catalog: str = "", among: bool = False) -> str:
    """SELECT transcript_id, labels_hidden, prelabels_hidden for the transcripts with anything
    hidden from $user (parameters: `params(viewer)`), over `catalog`'s tables; `among`: only of
    the transcripts in the list $ids (read no others). It can stand as a CTE of a larger query
    (Browse, the exports)."""
    c = f'"{catalog}".main.' if catalog else ""
    only = "AND transcript_id IN (SELECT unnest($ids))" if among else ""
    return f"""
WITH who AS (
    SELECT transcript_id, count(DISTINCT annotator) AS n_labelers,
           bool_or(annotator = $user) AS mine
    FROM {c}current_labels WHERE kind = 'label' {only} GROUP BY transcript_id
), me AS (
    SELECT $reviewing OR count(*) > 0 AS reviewer FROM {c}annotations
    WHERE annotator = $user AND kind = 'label'
), rule AS (
    SELECT t.transcript_id, {overlap_sql()} AS overlap, w.n_labelers,
           coalesce(w.mine, false) AS mine
    FROM {c}transcripts t LEFT JOIN who w USING (transcript_id), me
    WHERE me.reviewer {only.replace("transcript_id", "t.transcript_id", 1)}
), flags AS (
    SELECT transcript_id, coalesce(n_labelers = 1 AND NOT mine AND overlap, false) AS labels_hidden,
           NOT mine AND ((overlap AND coalesce(n_labelers, 0) < 2) OR $display <> 'shown')
               AS prelabels_hidden
    FROM rule
)
SELECT transcript_id, labels_hidden, prelabels_hidden FROM flags
WHERE labels_hidden OR prelabels_hidden
"""


def params(viewer: Viewer) -> dict:
    """The parameters of hidden_sql for `viewer`."""
    return {"user": viewer.user, "seed": int(viewer.seed), "share": float(viewer.share),
            "display": viewer.prelabel_display, "reviewing": bool(viewer.reviewing)}


def load_hidden(con: duckdb.DuckDBPyConnection, viewer: Viewer, catalog: str = "",
                into: str = "_hidden") -> int:
    """Create the temp table `into` (transcript_id, labels_hidden, prelabels_hidden) on `con`;
    the number of transcripts with anything hidden."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS {hidden_sql(catalog)}", params(viewer))
    return con.execute(f"SELECT count(*) FROM {into}").fetchall()[0][0]


def row_filter(table: str, hidden: str = "_hidden", column: str = "transcript_id") -> str | None:
    """The WHERE clause that drops `table`'s hidden rows; None when it has none to drop."""
    if table in LABEL_TABLES or table in LABEL_VIEWS:
        flag = "labels_hidden"
    elif table in PRELABEL_TABLES:
        flag = "prelabels_hidden"
    else:
        return None
    return f"{column} NOT IN (SELECT transcript_id FROM {hidden} WHERE {flag})"


def hiding(viewer: Viewer, sql: str) -> tuple[str, dict]:
    """`sql` (a query whose row filters name `_hidden`, e.g. row_filter's; it may open with
    its own WITH) with the rule as its first CTE `_hidden`, and the parameters for `viewer`."""
    head = f"WITH _hidden AS ({hidden_sql()})"
    body = sql.lstrip()
    if body[:5].upper() == "WITH ":
        return f"{head}, {body[5:]}", params(viewer)
    return f"{head} {body}", params(viewer)


def hidden_counts(db: Database, viewer: Viewer) -> tuple[int, int]:
    """How many transcripts have their labels, and their pre-labels, hidden from `viewer`."""
    return db.con.execute(f"SELECT count(*) FILTER (labels_hidden), count(*) FILTER "
                       f"(prelabels_hidden) FROM ({hidden_sql()})", params(viewer)).fetchall()[0]


def hidden_among(db: Database, viewer: Viewer, ids: list[str]) -> set[str]:
    """Which of these transcripts have their labels or pre-labels hidden from `viewer`."""
    if not ids:
        return set()
    rows = db.con.execute(f"SELECT transcript_id FROM ({hidden_sql(among=True)})",
                          params(viewer) | {"ids": list(ids)}).fetchall()
    return {r[0] for r in rows}
