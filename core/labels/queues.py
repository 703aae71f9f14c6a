"""Annotation queues: which transcript a reviewer sees next, and how far along they are.

Kinds: 'random' (a sample's seeded order, the latest sample by default; without samples every
active transcript in an order seeded by the `queue_seed` setting), 'low_confidence' (latest
pre-label confidence ascending, un-prelabeled last) and 'filtered' (metadata field = value,
source, pre-label label; in the seeded order). Any queue can be narrowed to labeled / unlabeled.

Overlap: whether a transcript is an overlap item is the store's rule (core/store/overlap.py),
read once per queue seed, share and transcripts version. A non-overlap item is done once anyone labeled it; an overlap item stays open to a second,
different reviewer until two reviewers labeled it. Skipping defers an item to the end of that
reviewer's queue. The candidate order is computed once per queue and cached per process; each
call then reads only who-labeled-what and the reviewer's skips.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from core.errors import NotFound, UsageError
from core.labels.fields import check_queue_field
from core.labels.tracker import label_state, tracker_of
from core.store import queues as sql
from core.store.connection import Database, utcnow
from core.store.overlap import overlap_ids
from core.store.samples import sample_exists
from core.store.settings import get_settings

KINDS = ("random", "low_confidence", "filtered")
KIND_NAMES = {"random": "Random sample (unbiased)",
              "low_confidence": "Lowest pre-label confidence first", "filtered": "Filtered"}
LABELED_FILTERS = (None, "labeled", "unlabeled")
_CACHE_SIZE = 32
_orders: OrderedDict[tuple, tuple[tuple[str, ...], frozenset[str]]] = OrderedDict()
_overlaps: OrderedDict[tuple, frozenset[str]] = OrderedDict()


@dataclass(frozen=True)
class QueueSpec:
    """What a reviewer asked to work through. `kind` is stored as the annotation's `queue`."""

    kind: str = "random"
    sample_id: str | None = None
    field: str | None = None
    value: str | None = None
    source: str | None = None
    prelabel_label: str | None = None
    labeled: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"queue kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.labeled not in LABELED_FILTERS:
            raise UsageError(f"labeled filter must be 'labeled' or 'unlabeled', got {self.labeled!r}")

    @property
    def is_random(self) -> bool:
        """Only an unfiltered random queue yields labels the report may treat as a random sample."""
        return self.kind == "random" and self.labeled is None

    @property
    def queue_name(self) -> str:
        """The value stored in annotations.queue: 'random' only for an unbiased order."""
        return "filtered" if self.kind == "random" and not self.is_random else self.kind


@dataclass(frozen=True)
class QueueItem:
    """The transcript to show next, and why."""

    transcript_id: str
    position: int  # 1-based place in the queue's order
    is_overlap: bool
    deferred: bool  # the reviewer skipped it before
    queue: str
    sample_id: str | None


class QueueProgress(NamedTuple):
    """'transcript 45 of 300': position, total, what is left, the reviewer's labels today."""

    position: int
    total: int
    remaining: int
    done_today: int


def _resolve(spec: QueueSpec, latest_sample: str | None) -> QueueSpec:
    """Fill in the latest sample for a random queue without an explicit sample."""
    if spec.kind == "random" and spec.sample_id is None and latest_sample is not None:
        return QueueSpec(**{**spec.__dict__, "sample_id": latest_sample})
    return spec


def _compute_order(db: Database, spec: QueueSpec, seed: int) -> list[str]:
    if spec.kind == "random" and spec.sample_id:
        ids = sql.sample_order(db, spec.sample_id)
        if not ids and not sample_exists(db, spec.sample_id):
            raise NotFound(f"no sample with id {spec.sample_id!r}")
        return ids
    if spec.kind == "random":
        return sql.seeded_order(db, seed)
    if spec.kind == "low_confidence":
        return sql.confidence_order(db)
    return sql.filtered_order(db, seed, spec.field, spec.value, spec.source, spec.prelabel_label)


def candidate_order(db: Database, spec: QueueSpec, seed: int,
                    version: tuple | None = None) -> tuple[tuple[str, ...], frozenset[str]]:
    """The queue's full order (and its set), cached until transcripts or pre-labels change."""
    version = version or sql.transcripts_version(db)
    if spec.kind != "random":
        version = (*version, *sql.prelabels_version(db))
    key = (str(db.path), id(db), spec, seed, version)
    hit = _orders.get(key)
    if hit is not None:
        _orders.move_to_end(key)
        return hit
    ids = tuple(_compute_order(db, spec, seed))
    _orders[key] = (ids, frozenset(ids))
    while len(_orders) > _CACHE_SIZE:
        _orders.popitem(last=False)
    return _orders[key]


def overlap_items(db: Database, seed: int, share: float, version: tuple) -> frozenset[str]:
    """The transcripts that go to two reviewers, cached until transcripts, seed or share change."""
    key = (str(db.path), id(db), seed, share, version)
    hit = _overlaps.get(key)
    if hit is None:
        hit = _overlaps[key] = overlap_ids(db, seed, share)
        while len(_overlaps) > 4:
            _overlaps.popitem(last=False)
    _overlaps.move_to_end(key)
    return hit


@dataclass
class QueueState:
    """One reading of a queue for one reviewer: use it for both `next` and `progress`."""

    reviewer: str
    spec: QueueSpec
    order: tuple[str, ...]
    members: frozenset[str]
    labelers: dict[str, frozenset[str]]
    skipped: dict[str, datetime]
    overlaps: frozenset[str]
    done_today: int = 0
    recent: tuple[tuple[str, str], ...] = ()  # the reviewer's latest labels (transcript, key)
    db: weakref.ref | None = None
    version: int = 0  # the label tracker's, when `labelers` was read
    # (labeled items of this queue, closed ones): counted once, then carried from the last reading
    _counts: tuple[int, int] | None = field(default=None, repr=False, compare=False)

    def overlap(self, transcript_id: str) -> bool:
        """Whether this transcript is double-labeled."""
        return transcript_id in self.overlaps

    def is_open(self, transcript_id: str) -> bool:
        """Whether the reviewer should still label this transcript in this queue."""
        who = self.labelers.get(transcript_id, frozenset())
        if self.reviewer in who:
            return False
        if self.spec.labeled == "unlabeled" and who:
            return False
        if self.spec.labeled == "labeled" and not who:
            return False
        return not who or (self.overlap(transcript_id) and len(who) < 2)

    def _item(self, index: int, deferred: bool) -> QueueItem:
        tid = self.order[index]
        return QueueItem(tid, index + 1, self.overlap(tid), deferred, self.spec.queue_name,
                         self.spec.sample_id)

    def item(self, transcript_id: str) -> QueueItem | None:
        """This transcript as an item of the queue (e.g. to go back to it after undo)."""
        if transcript_id not in self.members:
            return None
        return self._item(self.order.index(transcript_id), transcript_id in self.skipped)

    def next(self, exclude: str | None = None) -> QueueItem | None:
        """The first open, unskipped item in order that no other reviewer has on screen; else
        the longest-deferred skipped one; else one another reviewer has open (never nothing).
        `exclude`: an item to pass over (the one on screen, when guessing the one after it)."""
        deferred: list[tuple[datetime, int]] = []
        taken: list[int] = []
        others = _claimed_by_others(self.db() if self.db else None, self.reviewer)
        for i, tid in enumerate(self.order):
            if tid == exclude or not self.is_open(tid):
                continue
            when = self.skipped.get(tid)
            if when is not None:
                deferred.append((when, i))
            elif tid in others:
                taken.append(i)
            else:
                return self._item(i, False)
        if deferred:
            return self._item(min(deferred)[1], True)
        return self._item(taken[0], False) if taken else None

    def claim_next(self, db: Database) -> QueueItem | None:
        """`next`, claimed for this reviewer in one step (no other session can slip between)."""
        with _claims_lock:
            item = self.next()
            claim(db, self.reviewer, item.transcript_id if item else None)
        return item

    def _tally(self, transcript_id: str, who: frozenset[str] | None) -> tuple[int, int]:
        """(labeled, closed) of one transcript of this queue, as is_open decides."""
        if who is None or transcript_id not in self.members:
            return 0, 0
        return 1, int(not self.is_open(transcript_id))

    def counts(self, previous: QueueState | None = None) -> tuple[int, int]:
        """(labeled items, closed items) of this queue for the reviewer. From `previous`, a
        reading of the same queue, only the transcripts whose holders changed since are counted
        again (the tracker knows which: one save, not every label); else every label is."""
        if self._counts is None:
            changed = None
            if previous is not None and previous._counts is not None and self.db is not None \
                    and (previous.reviewer, previous.spec) == (self.reviewer, self.spec) \
                    and previous.members is self.members and previous.overlaps is self.overlaps:
                db = self.db()
                if db is not None and previous.db is not None and previous.db() is db:
                    changed = tracker_of(db).changed_since(previous.version, self.version)
            if changed is None:
                self._counts = self._count_all()
            else:
                labeled, closed = previous._counts
                for t in changed:
                    was, now = previous._tally(t, previous.labelers.get(t)), \
                        self._tally(t, self.labelers.get(t))
                    labeled, closed = labeled + now[0] - was[0], closed + now[1] - was[1]
                self._counts = (labeled, closed)
        return self._counts

    def _count_all(self) -> tuple[int, int]:
        """`counts` from every label: set operations, then a loop over the overlap items only
        (100k labels: the first paint waited 0.55 s for a loop over all of them, cProfile)."""
        labelers, me = self.labelers, self.reviewer
        if not all(labelers.values()):  # a transcript listed with no holder: one by one
            tallies = [self._tally(t, who) for t, who in labelers.items()]
            return sum(a for a, _ in tallies), sum(b for _, b in tallies)
        held = self.members.intersection(labelers)
        if self.spec.labeled == "unlabeled":  # any holder closes an item
            return len(held), len(held)
        # open though held: an overlap item whose one holder is someone else
        waiting = sum(1 for t in self.overlaps.intersection(held)
                      if len(who := labelers[t]) == 1 and me not in who)
        return len(held), len(held) - waiting

    def total(self) -> int:
        """Items this queue holds for the reviewer (a 'labeled' queue counts labeled ones only)."""
        return self.counts()[0] if self.spec.labeled == "labeled" else len(self.order)

    def progress(self, previous: QueueState | None = None) -> QueueProgress:
        """Position, total, remaining and today's count, from the labeled items only (counted
        from `previous`, an earlier reading of the queue, when given: see `counts`)."""
        labeled, closed = self.counts(previous)
        total = labeled if self.spec.labeled == "labeled" else len(self.order)
        return QueueProgress(min(closed + 1, total), total, total - closed, self.done_today)


def start_of_today() -> datetime:
    """Midnight UTC today (annotations store naive UTC)."""
    now = utcnow()
    return now - timedelta(hours=now.hour, minutes=now.minute, seconds=now.second,
                           microseconds=now.microsecond)


def load_queue(db: Database, reviewer: str, spec: QueueSpec) -> QueueState:
    """Read the queue once for a reviewer: order (cached), labels, skips, today's count.
    UsageError for a queue filtered on a field hidden from reviewers."""
    check_queue_field(db, spec.field)
    settings = get_settings(db, "queue_seed", "overlap_share")
    version = sql.transcripts_version(db)
    spec, seed = _resolve(spec, version[-1]), int(settings["queue_seed"])
    order, members = candidate_order(db, spec, seed, version)
    labels = label_state(db, reviewer, start_of_today())
    return QueueState(
        reviewer=reviewer, spec=spec, order=order, members=members, labelers=labels.labelers,
        skipped=labels.skipped,
        overlaps=overlap_items(db, seed, float(settings["overlap_share"]), version),
        done_today=labels.done_since, recent=labels.recent, db=weakref.ref(db),
        version=labels.version)


def next_transcript(db: Database, reviewer: str, spec: QueueSpec) -> QueueItem | None:
    """The transcript this reviewer should label next in this queue (claimed for them, so
    reviewers working at the same time get different items), or None when done."""
    return load_queue(db, reviewer, spec).claim_next(db)


# Items on a reviewer's screen, in this process (the app is the database's only writer):
# db → reviewer → (transcript_id, expiry). One claim per reviewer; it lapses after CLAIM_TTL.
CLAIM_TTL = 600.0
_claims: weakref.WeakKeyDictionary[Database, dict[str, tuple[str, float]]] = \
    weakref.WeakKeyDictionary()
_claims_lock = threading.RLock()


def claim(db: Database, reviewer: str, transcript_id: str | None) -> None:
    """Mark the transcript as on this reviewer's screen (None releases their claim)."""
    with _claims_lock:
        mine = _claims.setdefault(db, {})
        if transcript_id is None:
            mine.pop(reviewer, None)
        else:
            mine[reviewer] = (transcript_id, time.monotonic() + CLAIM_TTL)


def _claimed_by_others(db: Database | None, reviewer: str) -> set[str]:
    now = time.monotonic()
    with _claims_lock:
        held = _claims.get(db, {}) if db is not None else {}
        return {tid for who, (tid, until) in held.items() if who != reviewer and until > now}


def queue_progress(db: Database, reviewer: str, spec: QueueSpec) -> QueueProgress:
    """(position, total, remaining, done_today) of this reviewer in this queue."""
    return load_queue(db, reviewer, spec).progress()
