"""Who holds a live label on which transcript, kept up to date incrementally.

The annotations table is append-only, so each call reads only the rows appended since the last
one (by rowid) instead of aggregating the whole table: the cost of "save + next" stays flat as
labels accumulate. A count check catches anything an incremental read could miss (a row
committed late with a lower rowid, a rollback): then the state is rebuilt from scratch.
Same meaning as the `current_labels` view: a label or adjudication is live unless a retraction
names it (a test checks the two agree).
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from datetime import datetime

from core.store import queues as sql
from core.store.connection import Database
from core.store.queues import LabelState

LIVE_KINDS = ("label", "adjudication")


class LabelTracker:
    """The label state of one database, shared by every session thread (guarded by a lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.last_rowid, self.n = -1, 0
        self.live: dict[str, tuple[str, str, str, datetime]] = {}  # id → tid, who, kind, at
        self.retracted: set[str] = set()
        self.holders: dict[str, dict[str, int]] = defaultdict(dict)
        self.labelers: dict[str, frozenset[str]] = {}
        self.by_annotator: dict[str, set[str]] = defaultdict(set)
        self.skips: dict[str, dict[str, datetime]] = defaultdict(dict)

    def _hold(self, tid: str, who: str, delta: int) -> None:
        held = self.holders[tid]
        held[who] = held.get(who, 0) + delta
        if held[who] <= 0:
            del held[who]
        if held:
            self.labelers[tid] = frozenset(held)
        else:
            self.labelers.pop(tid, None)

    def _apply(self, row: tuple) -> None:
        _, aid, tid, who, kind, at, retracts = row
        if kind == "retraction" and retracts:
            self.retracted.add(retracts)
            gone = self.live.pop(retracts, None)
            if gone is not None:
                self.by_annotator[gone[1]].discard(retracts)
                self._hold(gone[0], gone[1], -1)
        elif kind in LIVE_KINDS and aid not in self.retracted:
            self.live[aid] = (tid, who, kind, at)
            self.by_annotator[who].add(aid)
            self._hold(tid, who, +1)
        elif kind == "skip":
            mine = self.skips[who]
            mine[tid] = max(mine.get(tid, at), at)

    def _catch_up(self, db: Database) -> None:
        rows = sql.annotation_rows_after(db, self.last_rowid)
        for row in rows:
            self._apply(row)
        if rows:
            self.last_rowid, self.n = rows[-1][0], self.n + len(rows)
        if sql.annotation_count(db) != self.n:
            self._reset()
            rows = sql.annotation_rows_after(db, -1)
            for row in rows:
                self._apply(row)
            self.last_rowid, self.n = (rows[-1][0] if rows else -1), len(rows)

    def state(self, db: Database, reviewer: str, since: datetime) -> LabelState:
        """Labelers per transcript, this reviewer's skips and labels since `since`."""
        with self._lock:
            self._catch_up(db)
            mine = {self.live[a][0] for a in self.by_annotator.get(reviewer, ())
                    if self.live[a][2] == "label" and self.live[a][3] >= since}
            return LabelState(dict(self.labelers), dict(self.skips.get(reviewer, {})), len(mine))


_trackers: weakref.WeakKeyDictionary[Database, LabelTracker] = weakref.WeakKeyDictionary()
_trackers_lock = threading.Lock()


def label_state(db: Database, reviewer: str, since: datetime) -> LabelState:
    """The current label state for a reviewer (incremental; see the module docstring)."""
    with _trackers_lock:
        tracker = _trackers.get(db)
        if tracker is None:
            tracker = _trackers[db] = LabelTracker()
    return tracker.state(db, reviewer, since)
