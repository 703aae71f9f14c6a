"""Who holds a live label on which transcript, kept up to date incrementally.

Whether a label is live is decided in one place, the `live_annotations` view (migration m010):
this module never decides it, it only remembers what the view said. The annotations table is
append-only, so each call asks for the rows appended since the last one (by rowid) and re-reads,
from the view, the holders of the transcripts those rows touch: the cost of "save + next" stays
flat as labels accumulate. Re-reading is idempotent, so a row that lands between the two reads
is merely read twice. A count check catches what an incremental read could miss (a row
committed late with a lower rowid, a deletion): then everything is read again.

The first read (before Annotate's first paint) takes only who holds what, aggregated in SQL (one
row per transcript), and the skips; a reviewer's own labels (their count today, their latest) are
read when that reviewer first asks. Each change is numbered (`version`), and the transcripts it
touched are kept for a while, so a queue can update its counts from the last reading
(`changed_since`) instead of counting every label again.
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
# How many changes are remembered for `changed_since` (older readings count again).
_LOG_SIZE = 256


@dataclass(frozen=True)
class LabelState:
    """Who holds a live label on what, this reviewer's skips, how many transcripts they
    labeled since a time, their latest live labels (transcript, label), newest first, and the
    tracker's version when it was read."""

    labelers: dict[str, frozenset[str]]
    skipped: dict[str, datetime]
    done_since: int
    recent: tuple[tuple[str, str], ...] = ()
    version: int = 0


class LabelTracker:
    """The label state of one database, shared by every session thread (guarded by a lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0
        self._reset()

    def _reset(self) -> None:
        self.last_rowid, self.n, self.started = -1, 0, False
        self.labelers: dict[str, frozenset[str]] = {}
        # annotator → transcript → (created_at, primary_label) of their latest live label, for
        # the annotators who asked since the last full read (read then: `_mine`)
        self.labels: dict[str, dict[str, tuple[datetime, str]]] = {}
        self.skips: dict[str, dict[str, datetime]] = defaultdict(dict)
        self.version += 1
        self._log: list[tuple[int, frozenset[str]]] = []  # (version, transcripts it touched)
        self._floor = self.version  # changes since an older version are not known

    def _hold(self, transcript_ids: set[str], holders: list[tuple]) -> None:
        """Replace what is known of these transcripts by the view's holders."""
        labelers, labels = self.labelers, self.labels
        for tid in transcript_ids:
            labelers.pop(tid, None)
            for mine in labels.values():
                mine.pop(tid, None)
        held: dict[str, set[str]] = defaultdict(set)
        for tid, who, at, label in holders:
            held[tid].add(who)
            if at is not None and who in labels:
                labels[who][tid] = (at, label)
        labelers.update({tid: frozenset(who) for tid, who in held.items()})
        self.version += 1
        self._log.append((self.version, frozenset(transcript_ids)))
        if len(self._log) > _LOG_SIZE:
            self._floor = self._log.pop(0)[0]

    def _read_whole(self, db: Database) -> None:
        """Everything, from nothing: who holds what (one row per transcript) and the skips."""
        self._reset()
        self.n, self.last_rowid, self.labelers, skips = sql.holders_whole(db)
        self.started = True
        for tid, who, at in skips:
            self.skips[who][tid] = at

    def _read(self, db: Database) -> bool:
        """Take in the rows appended since the last read; False when the count says rows were
        missed."""
        rows = sql.annotation_rows_after(db, self.last_rowid)
        if sql.annotation_count(db) != self.n + len(rows):
            return False
        touched = {tid for _, tid, _, kind, _, _ in rows if kind != "skip"}
        named = [retracts for *_, retracts in rows if retracts]
        if named:  # a retraction touches the transcript of the row it names
            touched |= sql.transcripts_of(db, named)
        if len(touched) > _MAX_TOUCHED:
            return False
        for _, tid, who, kind, at, _ in rows:
            if kind == "skip":
                mine = self.skips[who]
                mine[tid] = max(mine.get(tid, at), at)
        if touched:
            self._hold(touched, sql.live_holders(db, sorted(touched)))
        self.n += len(rows)
        if rows:
            self.last_rowid = rows[-1][0]
        return True

    def _catch_up(self, db: Database) -> None:
        if not self.started or not self._read(db):
            self._read_whole(db)

    def _mine(self, db: Database, reviewer: str) -> dict[str, tuple[datetime, str]]:
        mine = self.labels.get(reviewer)
        if mine is None:  # read once; later rows reach it through _hold
            mine = self.labels[reviewer] = {
                tid: (at, label) for tid, _, at, label in sql.live_holders(db, annotator=reviewer)
                if at is not None}
        return mine

    def state(self, db: Database, reviewer: str, since: datetime, n_recent: int = 5) -> LabelState:
        """Labelers per transcript, this reviewer's skips, labels since `since`, latest labels."""
        with self._lock:
            self._catch_up(db)
            mine = self._mine(db, reviewer)
            newest = heapq.nlargest(n_recent, mine.items(), key=lambda kv: kv[1][0])
            return LabelState(dict(self.labelers), dict(self.skips.get(reviewer, {})),
                              sum(1 for at, _ in mine.values() if at >= since),
                              tuple((tid, label) for tid, (_, label) in newest), self.version)

    def forget(self) -> None:
        """Read everything again on the next call (a reading was found to miss a saved row)."""
        with self._lock:
            self.started = False

    def changed_since(self, old: int, new: int) -> set[str] | None:
        """The transcripts whose holders changed between two versions (None: not known)."""
        with self._lock:
            if old < self._floor or new > self.version:
                return None
            return {t for v, tids in self._log if old < v <= new for t in tids}


_trackers: weakref.WeakKeyDictionary[Database, LabelTracker] = weakref.WeakKeyDictionary()
_trackers_lock = threading.Lock()


def tracker_of(db: Database) -> LabelTracker:
    """The database's tracker (one per open database, shared by every session)."""
    with _trackers_lock:
        tracker = _trackers.get(db)
        if tracker is None:
            tracker = _trackers[db] = LabelTracker()
    return tracker


def label_state(db: Database, reviewer: str, since: datetime) -> LabelState:
    """The current label state for a reviewer (incremental; see the module docstring)."""
    return tracker_of(db).state(db, reviewer, since)
