"""SQL of the landing page: how far the team is, in a few counts."""

from __future__ import annotations

from datetime import datetime

from core.store.connection import Database
from core.store.demo_rows import IN_SCOPE
from core.store.prelabels import PRELABELERS_SQL

# The counts cover the transcripts in scope: active ones, and not the bundled demo's in a
# database that also holds the team's (core/store/demo_rows.py).
LANDING_COUNTS = f"""
WITH scope AS (SELECT t.transcript_id FROM transcripts t WHERE {IN_SCOPE}),
active_final AS (SELECT f.* FROM final_labels f JOIN scope USING (transcript_id))
SELECT
  (SELECT count(*) FROM scope),
  (SELECT count(*) FROM transcripts WHERE archived),
  (SELECT count(*) FROM scope s WHERE NOT EXISTS (
      SELECT 1 FROM current_labels c WHERE c.transcript_id = s.transcript_id)),
  (SELECT count(*) FROM active_final WHERE primary_label IS NOT NULL),
  (SELECT count(*) FROM active_final WHERE n_annotators >= 2),
  (SELECT count(*) FROM active_final WHERE status = 'disagreement'),
  (SELECT count(DISTINCT transcript_id) FROM prelabels WHERE status = 'ok'
     AND {PRELABELERS_SQL} AND transcript_id IN (SELECT transcript_id FROM scope)),
  -- as Annotate counts "you labeled N today": transcripts with a live label of yours
  (SELECT count(DISTINCT transcript_id) FROM live_annotations
     WHERE annotator = ? AND kind = 'label' AND created_at >= ?),
  (SELECT count(*) > 0 FROM transcripts WHERE source = 'demo')
"""


def landing_counts(db: Database, user: str, since: datetime) -> tuple:
    """(active, archived, unlabeled, labeled, double_labeled, disagreements, prelabeled,
    the user's labels since `since`, demo present)."""
    return db.con.execute(LANDING_COUNTS, [user, since]).fetchone()


def final_label_counts(db: Database) -> dict[str, int]:
    """Final labels per primary label over the transcripts in scope (open disagreements,
    which have none, left out)."""
    rows = db.con.execute(
        "SELECT f.primary_label, count(*) FROM final_labels f JOIN transcripts t "
        f"USING (transcript_id) WHERE f.primary_label IS NOT NULL AND {IN_SCOPE} "
        "GROUP BY f.primary_label").fetchall()
    return dict(rows)
