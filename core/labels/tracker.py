"""Who holds a live label on which transcript, kept up to date incrementally.

Whether a label is live is decided in one place, the `live_annotations` view (migration m010):
this module never decides it, it only remembers what the view said. The annotations table is
append-only, so each call asks for the rows appended since the last one (by rowid) and re-reads,
from the view, the holders of the transcripts those rows touch: the cost of "save + next" stays
flat as labels accumulate. Re-reading is idempotent, so a row that lands between the two reads
is merely read twice. A count check catches what an incremental read could miss (a row
committed late with a lower rowid, a deletion): then everything is read again.
"""

from __future__ import annotations

import heapq
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from core.store import queues as sql
from core.store.connection import Database

# Past this many touched transcripts (a bulk label import), one full read is cheaper.
_MAX_TOUCHED = 500


@dataclass(frozen=True)
class LabelState:
    """Who holds a live label on what, this reviewer's skips, how many transcripts they
    labeled since a time, and their latest live labels (transcript, label), newest first."""

    labelers: dict[str, frozenset[str]]
    skipped: dict[str, datetime]
    done_since: int
    recent: tuple[tuple[str, str], ...] = ()


class LabelTracker:
    """The label state of one database, shared by every session thread (guarded by a lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.last_rowid, self.n = -1, 0
        self.labelers: dict[str, frozenset[str]] = {}
        # annotator → transcript → (created_at, primary_label) of their latest live label
        self.labels: dict[str, dict[str, tuple[datetime, str]]] = defaultdict(dict)
        self.skips: dict[str, dict[str, datetime]] = defaultdict(dict)

    def _hold(self, transcript_ids: set[str], holders: list[tuple]) -> None:
        """Replace what is known of these transcripts by the view's holders. (The first read
        takes every live label, 120k rows at 100k transcripts, before Annotate's first paint:
        hence the plain loop, tuples and one update; 1.6× faster than sets per transcript.)"""
        labelers, labels = self.labelers, self.labels
        for tid in transcript_ids:
            for who in labelers.pop(tid, ()):
                labels[who].pop(tid, None)
        held: dict[str, tuple[str, ...]] = {}
        for tid, who, at, label in holders:
            h = held.get(tid)
            held[tid] = (who,) if h is None else (*h, who)
            if at is not None:
                labels[who][tid] = (at, label)
        labelers.update({tid: frozenset(who) for tid, who in held.items()})

    def _read(self, db: Database, after: int) -> bool:
        """Take in the rows appended after `after`; False when the count says rows were missed."""
        rows = sql.annotation_rows_after(db, after)
        if sql.annotation_count(db) != self.n + len(rows):
            return False
        touched = {tid for _, tid, _, kind, _, _ in rows if kind != "skip"}
        named = [retracts for *_, retracts in rows if retracts]
        if named:  # a retraction touches the transcript of the row it names
            touched |= sql.transcripts_of(db, named)
        for _, tid, who, kind, at, _ in rows:
            if kind == "skip":
                mine = self.skips[who]
                mine[tid] = max(mine.get(tid, at), at)
        if after < 0 or len(touched) > _MAX_TOUCHED:
            self.labelers.clear()
            self.labels.clear()
            self._hold(set(), sql.live_holders(db))
        elif touched:
            self._hold(touched, sql.live_holders(db, sorted(touched)))
        self.n += len(rows)
        if rows:
            self.last_rowid = rows[-1][0]
        return True

    def _catch_up(self, db: Database) -> None:
        if not self._read(db, self.last_rowid):
            self._reset()
            self._read(db, -1)

    def state(self, db: Database, reviewer: str, since: datetime, n_recent: int = 5) -> LabelState:
        """Labelers per transcript, this reviewer's skips, labels since `since`, latest labels."""
        with self._lock:
            self._catch_up(db)
            mine = self.labels.get(reviewer, {})
            newest = heapq.nlargest(n_recent, mine.items(), key=lambda kv: kv[1][0])
            return LabelState(dict(self.labelers), dict(self.skips.get(reviewer, {})),
                              sum(1 for at, _ in mine.values() if at >= since),
                              tuple((tid, label) for tid, (_, label) in newest))


_trackers: weakref.WeakKeyDictionary[Database, LabelTracker] = weakref.WeakKeyDictionary()
_trackers_lock = threading.Lock()


def label_state(db: Database, reviewer: str, since: datetime) -> LabelState:
    """The current label state for a reviewer (incremental; see the module docstring)."""
    with _trackers_lock:
        tracker = _trackers.get(db)
        if tracker is None:
            tracker = _trackers[db] = LabelTracker()
    return tracker.state(db, reviewer, since)
