import itertools

from core.labels.queues import QueueSpec, load_queue, next_transcript, queue_progress
from core.store.annotations import retract_label
from core.store.overlap import overlap_among
from core.store.prelabels import save_prelabels
from core.store.settings import set_setting
from tests.annotate_helpers import label, prelabel, simple_db
from tests.conftest import add_transcripts, make_record

RANDOM = QueueSpec()


def order_of(db, reviewer="ann", spec=RANDOM):
    return list(load_queue(db, reviewer, spec).order)


def test_seeded_order_is_stable_and_depends_on_seed(db):
    ids = simple_db(db, 30)
    first = order_of(db)
    assert sorted(first) == sorted(ids) and first != sorted(ids)
    assert order_of(db) == first
    set_setting(db, "queue_seed", 7, "test")
    assert order_of(db) != first and sorted(order_of(db)) == sorted(ids)


def test_sample_order_follows_positions_and_latest_sample_is_default(db):
    simple_db(db, 5)
    db.con.execute("INSERT INTO samples (sample_id, method, seed, n, created_at) VALUES "
                   "('s1', 'random', 1, 3, '2026-01-01'), ('s2', 'random', 2, 2, '2026-01-02')")
    db.con.execute("INSERT INTO sample_items VALUES ('s1','t4',1),('s1','t0',2),('s1','t2',3),"
                   "('s2','t3',1),('s2','t1',2)")
    assert order_of(db) == ["t3", "t1"]
    assert order_of(db, spec=QueueSpec(sample_id="s1")) == ["t4", "t0", "t2"]
    item = next_transcript(db, "ann", QueueSpec(sample_id="s1"))
    assert (item.transcript_id, item.position, item.sample_id, item.queue) == ("t4", 1, "s1", "random")


def test_labeled_item_is_done_for_everyone_without_overlap(db, taxonomy):
    simple_db(db, 3)
    set_setting(db, "overlap_share", 0.0, "test")
    head = next_transcript(db, "ann", RANDOM).transcript_id
    assert next_transcript(db, "bob", RANDOM).transcript_id != head  # ann has it on screen
    label(db, taxonomy, head, "ann")
    assert next_transcript(db, "ann", RANDOM).transcript_id != head
    assert next_transcript(db, "bob", RANDOM).transcript_id != head
    assert queue_progress(db, "bob", RANDOM) == (2, 3, 2, 0)  # bob's item is still open
    assert queue_progress(db, "ann", RANDOM) == (2, 3, 2, 1)


def test_overlap_item_goes_to_a_second_different_reviewer_then_closes(db, taxonomy):
    simple_db(db, 4)
    set_setting(db, "overlap_share", 1.0, "test")
    head = next_transcript(db, "ann", RANDOM)
    assert head.is_overlap
    label(db, taxonomy, head.transcript_id, "ann")
    assert next_transcript(db, "ann", RANDOM).transcript_id != head.transcript_id
    assert next_transcript(db, "bob", RANDOM).transcript_id == head.transcript_id
    label(db, taxonomy, head.transcript_id, "bob", "escalation", minutes=1)
    assert next_transcript(db, "cyd", RANDOM).transcript_id != head.transcript_id


def test_overlap_share_selects_a_deterministic_fraction():
    ids = [f"t{i}" for i in range(2000)]
    chosen = overlap_among(ids, 0, 0.2)
    assert 300 < len(chosen) < 500
    assert chosen == overlap_among(ids, 0, 0.2) and chosen != overlap_among(ids, 1, 0.2)
    assert overlap_among(ids, 0, 0.0) == frozenset() and overlap_among([], 0, 0.5) == frozenset()
    # the rule as first written in Python (sha1 of "seed:id", 8 bytes over 2**64), kept literal:
    assert len(chosen) == 388 and sorted(chosen)[:5] == ["t0", "t1001", "t1010", "t1013", "t1015"]


def test_queue_overlap_items_are_the_stores_rule(db):
    from core.store.overlap import overlap_ids

    ids = simple_db(db, 40)
    set_setting(db, "overlap_share", 0.5, "test")
    state = load_queue(db, "ann", RANDOM)
    assert {t for t in ids if state.overlap(t)} == overlap_ids(db, 0, 0.5) == overlap_among(ids, 0, 0.5)


def test_skip_defers_item_to_the_end_for_that_reviewer_only(db, taxonomy):
    simple_db(db, 3)
    set_setting(db, "overlap_share", 0.0, "test")
    order = order_of(db)
    label(db, taxonomy, order[0], "ann", kind="skip")
    assert next_transcript(db, "ann", RANDOM).transcript_id == order[1]
    assert next_transcript(db, "bob", RANDOM).transcript_id == order[0]
    label(db, taxonomy, order[1], "ann")
    label(db, taxonomy, order[2], "ann", minutes=1)
    last = next_transcript(db, "ann", RANDOM)
    assert (last.transcript_id, last.deferred) == (order[0], True)
    assert queue_progress(db, "ann", RANDOM).remaining == 1


def test_undo_reopens_the_item(db, taxonomy):
    simple_db(db, 2)
    head = next_transcript(db, "ann", RANDOM).transcript_id
    label(db, taxonomy, head, "ann")
    assert next_transcript(db, "ann", RANDOM).transcript_id != head
    retract_label(db, head, "ann")
    assert next_transcript(db, "ann", RANDOM).transcript_id == head


def test_low_confidence_order_puts_unprelabeled_last(db, taxonomy):
    simple_db(db, 4)
    save_prelabels(db, [prelabel("t2", "tone_policy", 0.9, taxonomy),
                        prelabel("t0", "escalation", 0.4, taxonomy),
                        prelabel("t3", "escalation", 0.6, taxonomy)])
    assert order_of(db, spec=QueueSpec(kind="low_confidence")) == ["t0", "t3", "t2", "t1"]
    # a newer pre-label replaces the older one, and the cached order notices
    save_prelabels(db, [prelabel("t2", "tone_policy", 0.1, taxonomy)])
    assert order_of(db, spec=QueueSpec(kind="low_confidence"))[0] == "t2"


def test_filters_by_metadata_source_prelabel_and_labeled(db, taxonomy):
    simple_db(db, 6)  # odd ids are channel=web
    add_transcripts(db, [make_record("x1", metadata={"tier": 'gold "vip"'})], source="other")
    assert sorted(order_of(db, spec=QueueSpec(kind="filtered", field="channel", value="web"))) == [
        "t1", "t3", "t5"]
    assert order_of(db, spec=QueueSpec(kind="filtered", field="tier", value='gold "vip"')) == ["x1"]
    assert order_of(db, spec=QueueSpec(kind="filtered", source="other")) == ["x1"]
    save_prelabels(db, [prelabel("t4", "escalation", 0.5, taxonomy)])
    assert order_of(db, spec=QueueSpec(kind="filtered", prelabel_label="escalation")) == ["t4"]
    label(db, taxonomy, "t1", "ann")
    set_setting(db, "overlap_share", 1.0, "test")
    labeled = QueueSpec(labeled="labeled")
    assert next_transcript(db, "bob", labeled).transcript_id == "t1"
    assert queue_progress(db, "bob", labeled) == (1, 1, 1, 0)
    assert next_transcript(db, "bob", labeled).queue == "filtered"
    unlabeled = QueueSpec(labeled="unlabeled")
    assert next_transcript(db, "bob", unlabeled).transcript_id != "t1"


def test_empty_queue_returns_none_and_zero_progress(db, taxonomy):
    assert next_transcript(db, "ann", RANDOM) is None
    simple_db(db, 1)
    label(db, taxonomy, "t0", "ann")
    assert next_transcript(db, "ann", RANDOM) is None
    assert queue_progress(db, "ann", RANDOM) == (1, 1, 0, 1)


def from_the_views(db, reviewer, since):
    """The label state as the views say it, read whole: what the tracker must agree with."""
    holders = db.con.execute(
        "SELECT transcript_id, list(DISTINCT annotator) FROM current_labels GROUP BY 1").fetchall()
    skips = db.con.execute(
        "SELECT transcript_id, max(created_at) FROM annotations WHERE kind = 'skip' "
        "AND annotator = ? GROUP BY 1", [reviewer]).fetchall()
    done = db.con.execute(
        "SELECT count(DISTINCT transcript_id) FROM live_annotations WHERE annotator = ? "
        "AND kind = 'label' AND created_at >= ?", [reviewer, since]).fetchone()[0]
    recent = db.con.execute(
        "SELECT transcript_id, primary_label FROM current_labels WHERE annotator = ? "
        "AND kind = 'label' ORDER BY created_at DESC LIMIT 5", [reviewer]).fetchall()
    return ({t: frozenset(who) for t, who in holders}, dict(skips), done, tuple(recent))


def as_tuple(state):
    return state.labelers, state.skipped, state.done_since, state.recent


def test_label_state_is_what_the_views_say_as_rows_arrive(db, taxonomy):
    from core.labels.queues import start_of_today
    from core.labels.tracker import LabelTracker
    from core.labels.tracker import label_state as tracked

    simple_db(db, 4)
    since = start_of_today()
    steps = [lambda: label(db, taxonomy, "t0", "ann", "tone_policy"),
             lambda: label(db, taxonomy, "t0", "ann", "escalation", minutes=1),
             lambda: retract_label(db, "t0", "ann"),  # the earlier label is live again
             lambda: label(db, taxonomy, "t0", "bob", minutes=2),
             lambda: retract_label(db, "t0", "ann"),
             lambda: label(db, taxonomy, "t1", "ann", kind="skip"),
             lambda: label(db, taxonomy, "t1", "ann", minutes=3),
             lambda: label(db, taxonomy, "t2", "cyd", kind="adjudication"),
             lambda: label(db, taxonomy, "t3", "ann", minutes=4)]
    for step in steps:
        step()
        state = tracked(db, "ann", since)
        assert as_tuple(state) == from_the_views(db, "ann", since)
        assert as_tuple(state) == as_tuple(LabelTracker().state(db, "ann", since))  # read whole
    assert tracked(db, "ann", since).labelers == {
        "t0": frozenset({"bob"}), "t1": frozenset({"ann"}), "t2": frozenset({"cyd"}),
        "t3": frozenset({"ann"})}
    assert tracked(db, "ann", since).recent == (("t3", "tone_policy"), ("t1", "tone_policy"))
    # a row the incremental read cannot see by rowid is still noticed (count check)
    db.con.execute("DELETE FROM annotations WHERE transcript_id = 't2'")
    assert as_tuple(tracked(db, "ann", since)) == from_the_views(db, "ann", since)


def test_a_retraction_naming_another_transcripts_label_is_applied(db, taxonomy):
    from core.labels.queues import start_of_today
    from core.labels.tracker import label_state as tracked
    from core.store.annotations import NewAnnotation, add_annotation

    simple_db(db, 2)
    since = start_of_today()
    first = label(db, taxonomy, "t0", "ann")
    assert tracked(db, "ann", since).labelers == {"t0": frozenset({"ann"})}
    # filed under t1, naming t0's label: the view's rule holds, so the tracker follows it
    add_annotation(db, NewAnnotation(transcript_id="t1", annotator="ann", kind="retraction",
                                      retracts=first), [])
    assert tracked(db, "ann", since).labelers == {}


def test_reviewers_at_the_same_time_get_different_items_until_none_is_left(db):
    from core.labels.queues import claim

    simple_db(db, 2)
    set_setting(db, "overlap_share", 0.0, "test")
    a = next_transcript(db, "ann", RANDOM).transcript_id
    b = next_transcript(db, "bob", RANDOM).transcript_id
    assert a != b
    assert next_transcript(db, "ann", RANDOM).transcript_id == a  # own claim is no obstacle
    assert next_transcript(db, "cyd", RANDOM).transcript_id in (a, b)  # never nothing
    claim(db, "ann", None)
    claim(db, "cyd", None)
    assert next_transcript(db, "dee", RANDOM).transcript_id == a


def test_a_bulk_label_import_is_read_whole_and_still_agrees_with_the_views(db, taxonomy, tmp_path):
    from core.ingest.labels import import_labels
    from core.labels.queues import start_of_today
    from core.labels.tracker import label_state as tracked

    simple_db(db, 620)
    since = start_of_today()
    label(db, taxonomy, "t0", "ann")
    assert as_tuple(tracked(db, "ann", since)) == from_the_views(db, "ann", since)
    csv = tmp_path / "labels.csv"  # more transcripts at once than the tracker re-reads one by one
    csv.write_text("transcript_id,annotator,primary_label\n"
                   + "".join(f"t{i},bob,reasoning\n" for i in range(1, 620)), encoding="utf-8")
    assert import_labels(db, csv).rows_imported == 619
    state = tracked(db, "ann", since)
    assert as_tuple(state) == from_the_views(db, "ann", since) and len(state.labelers) == 620


def test_progress_counts_closed_items_as_is_open_decides():
    """progress() inlines is_open for speed: on every mix of holders, overlap and labeled
    filter it counts exactly the items is_open calls closed."""
    from core.labels.queues import QueueState

    order = tuple(f"t{i}" for i in range(8))
    labelers = {"t0": frozenset({"me"}), "t1": frozenset({"bob"}), "t2": frozenset({"bob"}),
                "t3": frozenset({"bob", "ann"}), "t4": frozenset(), "t5": frozenset({"me", "bob"}),
                "x9": frozenset({"bob"})}  # x9: not in this queue
    held = {t: who for t, who in labelers.items() if who}  # as the tracker gives: set operations
    for labeled, holders in itertools.product((None, "labeled", "unlabeled"), (labelers, held)):
        state = QueueState("me", QueueSpec("filtered", labeled=labeled), order, frozenset(order),
                           holders, {}, frozenset({"t2", "t3", "t4"}))
        closed = sum(1 for t in holders if t in state.members and not state.is_open(t))
        assert state.progress().remaining == state.total() - closed, labeled
        assert state.total() == (sum(1 for t in holders if t in order) if labeled == "labeled"
                                 else len(order))



def test_progress_carried_from_the_last_reading_equals_a_full_count(db, taxonomy, tmp_path):
    """Each reading counts only what changed since the previous one (the tracker's log): after
    every kind of change, by this reviewer or others, the numbers equal a count of every label."""
    from core.ingest.labels import import_labels

    simple_db(db, 640)
    set_setting(db, "overlap_share", 0.5, "test")
    specs = [RANDOM, QueueSpec("filtered", labeled="labeled"),
             QueueSpec("filtered", labeled="unlabeled")]
    last = {spec: load_queue(db, "ann", spec) for spec in specs}
    for state in last.values():
        state.progress()
    csv = tmp_path / "labels.csv"
    csv.write_text("transcript_id,annotator,primary_label\n"
                   + "".join(f"t{i},eve,reasoning\n" for i in range(40, 640)), encoding="utf-8")
    steps = [lambda: label(db, taxonomy, load_queue(db, "ann", RANDOM).next().transcript_id, "ann"),
             lambda: label(db, taxonomy, "t1", "bob"),
             lambda: label(db, taxonomy, "t1", "cyd"),  # an overlap item's second label
             lambda: label(db, taxonomy, "t2", "ann", kind="skip"),
             lambda: retract_label(db, "t1", "bob"),
             lambda: label(db, taxonomy, "t3", "cyd", kind="adjudication"),
             lambda: label(db, taxonomy, "t1", "ann"),
             lambda: retract_label(db, "t1", "ann"),
             lambda: import_labels(db, csv),  # too many at once: the tracker reads whole
             lambda: label(db, taxonomy, "t4", "bob")]
    from core.labels.tracker import tracker_of

    carried = 0
    for step in steps:
        step()
        for spec in specs:
            state = load_queue(db, "ann", spec)
            full = load_queue(db, "ann", spec)
            assert state.progress(last[spec]) == full.progress(), (spec, step)
            carried += tracker_of(db).changed_since(last[spec].version, state.version) is not None
            last[spec] = state
    assert carried == 3 * (len(steps) - 1)  # all but the bulk import's reading carried


def test_progress_counts_only_what_changed_since_the_last_reading(db, taxonomy):
    """The carried count really is carried: a reading whose changes are not known (another
    tracker version range) falls back to counting; a known one updates the last count."""
    from core.labels.tracker import tracker_of

    simple_db(db, 10)
    before = load_queue(db, "ann", RANDOM)
    before.progress()
    before._counts = (before._counts[0], before._counts[1] + 100)  # marked: carried onwards
    label(db, taxonomy, "t5", "bob")
    after = load_queue(db, "ann", RANDOM)
    assert tracker_of(db).changed_since(before.version, after.version) == {"t5"}
    assert after.progress(before).remaining == load_queue(db, "ann", RANDOM).progress().remaining - 100
    assert tracker_of(db).changed_since(-5, after.version) is None
