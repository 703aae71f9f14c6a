"""SQL of adjudication: open disagreements and the live labels behind one."""

from __future__ import annotations

from core.store.annotations import INSERT_COLUMNS, Annotation
from core.store.connection import Database

_OPEN = """
SELECT f.transcript_id
FROM final_labels f
JOIN transcripts t USING (transcript_id)
JOIN (SELECT transcript_id, max(created_at) AS last_label FROM current_labels
      WHERE kind = 'label' GROUP BY transcript_id) l USING (transcript_id)
WHERE f.status = 'disagreement' AND NOT t.archived
  AND (CAST(? AS VARCHAR) IS NULL OR f.transcript_id NOT IN (
      SELECT transcript_id FROM current_labels WHERE annotator = ?))
ORDER BY l.last_label, f.transcript_id
"""


def open_disagreement_ids(db: Database, not_labeled_by: str | None = None) -> list[str]:
    """Active transcripts whose final label is an open disagreement, oldest disagreement first;
    with `not_labeled_by`, only those that annotator has no live label on."""
    params = [not_labeled_by, not_labeled_by]
    return [r[0] for r in db.con.execute(_OPEN, params).fetchall()]


def final_status(db: Database, transcript_id: str) -> str | None:
    """The final_labels status of one transcript (None when nobody labeled it)."""
    row = db.con.execute("SELECT status FROM final_labels WHERE transcript_id = ?",
                         [transcript_id]).fetchone()
    return None if row is None else row[0]


def live_labels(db: Database, transcript_id: str) -> list[Annotation]:
    """Each annotator's current label (not adjudications) on a transcript, oldest first."""
    rows = db.con.execute(
        f"SELECT {INSERT_COLUMNS} FROM current_labels WHERE transcript_id = ? AND kind = 'label' "
        "ORDER BY created_at, annotator", [transcript_id]).fetchall()
    return [Annotation(*r[:5], tuple(r[5] or ()), *r[6:]) for r in rows]
