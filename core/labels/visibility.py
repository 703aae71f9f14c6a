"""Who may read which labels and pre-labels: the one visibility rule (core/store/visibility.py)
with the settings it depends on, for any page, export or view that shows labels to a user."""

from __future__ import annotations

from core.store.connection import Database
from core.store.settings import get_settings
from core.store.visibility import Viewer


def viewer_for(db: Database, user: str, reviewing: bool = False) -> Viewer:
    """`user` with the overlap seed and share and the pre-label display setting; `reviewing`
    on the pages reviewers label from (the rule holds before their first label)."""
    s = get_settings(db, "queue_seed", "overlap_share", "prelabel_display")
    return Viewer(user, int(s["queue_seed"]), float(s["overlap_share"]),
                  str(s["prelabel_display"]), reviewing)
