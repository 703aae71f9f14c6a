"""Discovery offline: real notes (Who&When) agree with their categories well above chance and
stably across seeds; saturation; axial coding; notes from the database; the spread by category."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score

from core.discover.axial import apply_rows, drafts_from, edit, merge, split, table_rows
from core.discover.cluster import OUTLIER, ClusterParams, group
from core.discover.model import SaturationPoint
from core.discover.notes import Note, notes_from_db, read_notes_file
from core.discover.run import DiscoverOptions, discover
from core.discover.saturation import saturation_sentence
from core.discover.spread import category_spread, notes_spread
from core.discover.vectors import normalise_text
from core.errors import UsageError
from tests.discover_helpers import MODES, notes_db, public_notes


def _assignment(d, notes: list[Note]) -> list[int]:
    where = {m: i for i, c in enumerate(d.clusters) for m in c.member_ids}
    return [where.get(n.note_id, OUTLIER) for n in notes]


def test_public_notes_agree_with_their_categories_well_above_chance(shared_data):
    notes = public_notes(shared_data)
    truth = [n.label for n in notes]
    d = discover(notes, DiscoverOptions(seed=0, saturation_steps=0))
    got = _assignment(d, notes)
    ami = adjusted_mutual_info_score(truth, got)
    rng = random.Random(0)
    chance = [adjusted_mutual_info_score(rng.sample(truth, len(truth)), got) for _ in range(50)]
    assert len(notes) == 184 and 5 <= len(d.clusters) <= 25
    assert len(d.outliers) <= 0.2 * len(notes)
    assert ami > 0.08 and ami > max(chance) + 0.04, (ami, max(chance))


def test_public_notes_clusters_are_stable_across_seeds(shared_data):
    notes = public_notes(shared_data)
    truth = [n.label for n in notes]
    runs = [discover(notes, DiscoverOptions(seed=s, saturation_steps=0)) for s in (0, 1, 2, 3)]
    amis = [adjusted_mutual_info_score(truth, _assignment(d, notes)) for d in runs]
    assert min(amis) > 0.08, amis
    pairwise = adjusted_mutual_info_score(_assignment(runs[0], notes), _assignment(runs[1], notes))
    assert pairwise > 0.3, pairwise
    assert all(5 <= len(d.clusters) <= 25 for d in runs)


def test_same_seed_gives_the_same_result(shared_data):
    notes = public_notes(shared_data)
    a, b = (discover(notes, DiscoverOptions(seed=7, saturation_steps=3)).to_json() for _ in "ab")
    assert a == b


def test_cluster_json_has_the_documented_fields(shared_data):
    d = discover(public_notes(shared_data), DiscoverOptions(saturation_steps=4)).to_json()
    assert set(d) == {"n_notes", "clusters", "outliers", "method", "saturation",
                      "saturation_sentence"}
    c = d["clusters"][0]
    assert {"name", "size", "member_ids", "examples", "top_terms", "nearest_category"} <= set(c)
    assert c["size"] == len(c["member_ids"]) and len(c["examples"]) >= 3
    assert set(c["nearest_category"]) == {"key", "share", "n_labeled"}
    assert d["method"]["name"] == "tfidf+hdbscan" and d["method"]["seed"] == 0
    assert [p["notes"] for p in d["saturation"]][-1] == 184
    members = {m for c in d["clusters"] for m in c["member_ids"]}
    assert not members & set(d["outliers"]) and len(members) + len(d["outliers"]) == 184


def test_examples_are_the_most_central_notes_first(shared_data):
    d = discover(public_notes(shared_data), DiscoverOptions(saturation_steps=0))
    for c in d.clusters:
        assert c.examples[0] == d.texts[c.member_ids[0]]
        assert len(set(c.examples)) == len(c.examples)


def test_modes_written_in_different_words_come_apart(db, taxonomy):
    notes_db(db, taxonomy, per_mode=3)
    notes = notes_from_db(db)
    d = discover(notes, DiscoverOptions(ClusterParams(min_size=4), saturation_steps=0))
    assert 4 <= len(d.clusters) <= 6 and len(d.outliers) <= 0.2 * len(notes)
    for c in d.clusters:
        assert c.nearest_category.share == 1.0 and c.nearest_category.n_labeled == c.size
    assert {c.nearest_category.key for c in d.clusters} == set(MODES)


def test_notes_scope_other_and_archived_transcripts(db, taxonomy):
    ids = notes_db(db, taxonomy, per_mode=1)
    assert len(notes_from_db(db)) == len(ids) and notes_from_db(db, "other") == []
    with pytest.raises(UsageError, match="needs a sample id"):
        notes_from_db(db, "sample")


def test_too_few_notes_give_no_cluster_and_say_so():
    notes = [Note(f"n{i}", t) for i, t in enumerate(["a broken tool", "wrong price", "rude"])]
    d = discover(notes, DiscoverOptions(saturation_steps=0))
    assert d.clusters == () and len(d.outliers) == 3
    with pytest.raises(UsageError, match="no notes to group"):
        discover([])


def test_max_clusters_is_respected_by_merging(shared_data):
    d = discover(public_notes(shared_data), DiscoverOptions(ClusterParams(min_size=4,
                                                                          max_clusters=3),
                                                            saturation_steps=0))
    assert len(d.clusters) == 3 and len(d.outliers) <= 0.2 * 184


def test_outlier_share_is_capped():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = group(vectors, ClusterParams(min_size=5))
    assert (labels == OUTLIER).mean() <= 0.2 or (labels == OUTLIER).all()


def test_normalise_text_folds_numbers_urls_and_identifiers():
    assert normalise_text("Sum is $7,565.55 see https://x.io/a get_order") == (
        "sum is  num  see  url  get order")


def test_saturation_sentence_flat_and_rising():
    flat = [SaturationPoint(n, c) for n, c in [(10, 1), (40, 4), (70, 5), (100, 5), (130, 5)]]
    assert saturation_sentence(flat).startswith("The last 60 notes added no category")
    rising = [SaturationPoint(n, c) for n, c in [(10, 1), (40, 3), (70, 4), (100, 6)]]
    assert saturation_sentence(rising).startswith("Not saturated yet: 6 categories")


def test_demo_notes_give_a_non_empty_saturation_curve(tmp_path):
    from core.store.connection import connect
    from tests.demo_helpers import demo_database

    demo_database(tmp_path / "demo.duckdb")
    with connect(tmp_path / "demo.duckdb") as db:
        d = discover(notes_from_db(db), DiscoverOptions(seed=0))
    assert len(d.saturation) >= 5 and d.saturation[-1].notes == d.n_notes > 50
    assert d.saturation[-1].clusters == len(d.clusters) > 0
    assert d.saturation_sentence


def test_axial_rename_merge_split_drop(shared_data):
    d = discover(public_notes(shared_data), DiscoverOptions(saturation_steps=0))
    drafts = drafts_from(d)
    a, b = drafts[0], drafts[1]
    merged = merge(drafts, [b.key], a.key)
    assert len(merged) == len(drafts) - 1 and len(merged[0].member_ids) == len(a.member_ids) + len(b.member_ids)
    renamed = edit(merged, a.key, new_key="wrong_code", name="Wrong code", fix_class="model")
    assert (renamed[0].key, renamed[0].name, renamed[0].fix_class) == ("wrong_code", "Wrong code", "model")
    halves = split(renamed, "wrong_code", d.texts)
    assert len(halves) == len(renamed) + 1
    assert sorted(halves[0].member_ids + halves[1].member_ids) == sorted(renamed[0].member_ids)
    rows = table_rows(halves)
    rows[-1]["keep"] = False
    assert len(apply_rows(halves, rows)) == len(halves) - 1
    with pytest.raises(UsageError, match="already used"):
        edit(halves, halves[0].key, new_key=halves[1].key)
    with pytest.raises(UsageError, match="fix class"):
        edit(halves, halves[0].key, fix_class="none")
    with pytest.raises(UsageError, match="kept apart"):
        edit(halves, halves[0].key, new_key="no_failure")


def test_category_spread_counts_each_category_over_clusters(db, taxonomy):
    notes_db(db, taxonomy, per_mode=3)
    d, spread = notes_spread(db)
    assert set(spread) == set(MODES)
    for s in spread.values():
        assert s.n_notes == 12 and s.top_share == 1.0 and s.effective_clusters == 1.0
    assert category_spread(d) == spread


def test_notes_file_rows_left_out_are_named(tmp_path):
    f = tmp_path / "notes.csv"
    f.write_text("id,text\nn1,first note\nn1,again\nn2,\n,no id\nn3,third\n", encoding="utf-8")
    got = read_notes_file(f)
    assert [n.note_id for n in got.notes] == ["n1", "n3"]
    assert got.rejected == ["row 2: id 'n1' appears twice (the first is kept)",
                            "row 3: `text` is empty or not a string", "row 4: `id` is empty"]
    bad = tmp_path / "notes.jsonl"
    bad.write_text('{"id": "a", "text": "x"}\n{"id": "b", \n', encoding="utf-8")
    with pytest.raises(UsageError, match="line 2: not JSON"):
        read_notes_file(bad)
    with pytest.raises(UsageError, match="needs a header with `id` and `text`"):
        (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
        read_notes_file(tmp_path / "x.csv")


def test_discovery_suggestions_never_stand_in_for_the_pre_label(db, taxonomy):
    """A 'discover' suggestion is kept apart: Annotate's pre-label, Browse's column, the
    low-confidence queue and Home's count read the LLM and offline labelers only."""
    from datetime import datetime

    from core.discover.suggest import DISCOVER_LABELER
    from core.labels.queues import QueueSpec, load_queue
    from core.store.overview import landing_counts
    from core.store.prelabels import Prelabel, latest_prelabel, save_prelabels
    from tests.conftest import add_transcripts, make_record

    add_transcripts(db, [make_record(i) for i in range(3)])
    save_prelabels(db, [Prelabel(transcript_id="t0", content_hash=None, labeler="offline", model="m",
                                 prompt_version="p", taxonomy_version=taxonomy.version,
                                 status="ok", primary_label="reasoning", confidence=0.9),
                        Prelabel(transcript_id="t1", content_hash=None, labeler=DISCOVER_LABELER, model="m",
                                 prompt_version="p", taxonomy_version=taxonomy.version,
                                 status="ok", primary_label="tone_policy", confidence=0.1)])
    assert latest_prelabel(db, "t1") is None and latest_prelabel(db, "t0").labeler == "offline"
    order = load_queue(db, "ann", QueueSpec("low_confidence")).order
    assert order[0] == "t0"  # the discovery suggestion's low confidence does not pull t1 first
    assert landing_counts(db, "ann", datetime(2026, 1, 1))[6] == 1  # pre-labeled transcripts


def test_names_hold_no_placeholder_words():
    """Numbers and URLs become "num"/"url" for the vectors; no top term or name carries them."""
    from core.discover.describe import name_from_terms, top_terms
    from core.discover.vectors import term_space
    texts = [f"refund of ${i}.00 issued twice for invoice {1000 + i}" for i in range(8)] + [
        f"see https://kb.example/{i} wrong page retrieved" for i in range(8)]
    space = term_space(texts)
    for members in (np.arange(8), np.arange(8, 16)):
        terms = top_terms(space, members)
        assert terms and not any({"num", "url"} & set(t.split()) for t in terms), terms
        assert "num" not in name_from_terms(terms).lower().split()
