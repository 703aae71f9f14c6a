"""SQL of the landing page: how far the team is, in a few counts."""

from __future__ import annotations

from datetime import datetime

from core.store.connection import Database
from core.store.demo_rows import IN_SCOPE
from core.store.prelabels import PRELABELERS_SQL

# The counts cover the transcripts in scope: active ones, and not the bundled demo's in a
# database that also holds the team's (core/store/demo_rows.py). The final labels in scope are
# read once (the final_labels view is the costly part: ~1 s at 100k labels under load) and both
# the counts and the labels per category come from them: one query where two took twice as long.
# Every transcript with a current label has a final_labels row, so unlabeled = scope - those.
LANDING_COUNTS = f"""
WITH scope AS MATERIALIZED (SELECT t.transcript_id FROM transcripts t WHERE {IN_SCOPE}),
active_final AS MATERIALIZED (
    SELECT f.primary_label, f.n_annotators, f.status FROM final_labels f JOIN scope USING (transcript_id)),
totals AS (
    SELECT count(*) AS n, count(*) FILTER (WHERE primary_label IS NOT NULL) AS labeled,
           count(*) FILTER (WHERE n_annotators >= 2) AS double_labeled,
           count(*) FILTER (WHERE status = 'disagreement') AS disagreements
    FROM active_final)
SELECT
  (SELECT count(*) FROM scope),
  (SELECT count(*) FROM transcripts WHERE archived),
  (SELECT count(*) FROM scope) - (SELECT n FROM totals),
  (SELECT labeled FROM totals),
  (SELECT double_labeled FROM totals),
  (SELECT disagreements FROM totals),
  (SELECT count(DISTINCT transcript_id) FROM prelabels WHERE status = 'ok'
     AND {PRELABELERS_SQL} AND transcript_id IN (SELECT transcript_id FROM scope)),
  -- as Annotate counts "you labeled N today": transcripts with a live label of yours
  (SELECT count(DISTINCT transcript_id) FROM live_annotations
     WHERE annotator = ? AND kind = 'label' AND created_at >= ?),
  (SELECT count(*) > 0 FROM transcripts WHERE source = 'demo'),
  (SELECT coalesce(list(struct_pack(k := primary_label, n := n)), []) FROM (
      SELECT primary_label, count(*) AS n FROM active_final WHERE primary_label IS NOT NULL
      GROUP BY 1))
"""


def landing_overview(db: Database, user: str, since: datetime) -> tuple[tuple, dict[str, int]]:
    """landing_counts and final_label_counts, from one reading of the final labels."""
    *counts, by_label = db.con.execute(LANDING_COUNTS, [user, since]).fetchone()
    return tuple(counts), {item["k"]: item["n"] for item in by_label}


def landing_counts(db: Database, user: str, since: datetime) -> tuple:
    """(active, archived, unlabeled, labeled, double_labeled, disagreements, prelabeled,
    the user's labels since `since`, demo present)."""
    return landing_overview(db, user, since)[0]


def final_label_counts(db: Database) -> dict[str, int]:
    """Final labels per primary label over the transcripts in scope (open disagreements,
    which have none, left out)."""
    rows = db.con.execute(
        "SELECT f.primary_label, count(*) FROM final_labels f JOIN transcripts t "
        f"USING (transcript_id) WHERE f.primary_label IS NOT NULL AND {IN_SCOPE} "
        "GROUP BY f.primary_label").fetchall()
    return dict(rows)
