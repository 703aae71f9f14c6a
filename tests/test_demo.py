"""The bundled demo: generated deterministically, shaped like real transcript records,
mixed like a real failure sample, and loaded once with its synthetic reviewers' labels."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from core.demo import is_empty, load_demo
from core.demo.generate import MIX, generate, generate_transcripts
from core.demo.load import ANNOTATIONS_PATH, TRANSCRIPTS_PATH, read_jsonl
from core.demo.story import TEMPLATES
from core.demo.world import KB
from core.errors import UsageError
from core.ingest.pipeline import import_file

ROLES = {"system", "developer", "user", "assistant", "tool"}


@pytest.fixture(scope="module")
def records():
    return read_jsonl(TRANSCRIPTS_PATH)


@pytest.fixture(scope="module")
def annotations():
    return read_jsonl(ANNOTATIONS_PATH)


def test_generator_is_deterministic_and_matches_the_committed_files(tmp_path):
    first, second = generate(tmp_path / "a"), generate(tmp_path / "b")
    for a, b, committed in zip(first, second, (TRANSCRIPTS_PATH, ANNOTATIONS_PATH), strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() == committed.read_bytes(), (
            f"{committed.name} differs from the generator's output: run python -m core.demo.generate")


def test_demo_files_stay_small():
    assert TRANSCRIPTS_PATH.stat().st_size + ANNOTATIONS_PATH.stat().st_size < 3_000_000


def check_message(m: dict, where: str) -> None:
    assert m["role"] in ROLES, where
    if m["role"] == "tool":
        assert isinstance(m["content"], str) and m["tool_call_id"], where
    for call in m.get("tool_calls") or []:
        assert set(call) == {"id", "type", "function"} and call["type"] == "function", where
        assert set(call["function"]) == {"name", "arguments"}, where
        assert isinstance(json.loads(call["function"]["arguments"]), dict), where
    if not m.get("tool_calls"):
        assert isinstance(m["content"], str) and m["content"], where


def test_every_record_is_a_valid_transcript_record(records):
    assert len(records) == 300
    assert len({r["id"] for r in records}) == 300
    for r in records:
        assert set(r) <= {"id", "messages", "metadata", "context", "tools"}
        assert r["messages"][0]["role"] == "system"
        for i, m in enumerate(r["messages"]):
            check_message(m, f"{r['id']} message {i}")
        for d in r.get("context", []):
            assert set(d) == {"source", "text"} and d["source"] in KB
        assert all(t["type"] == "function" and t["function"]["name"] for t in r["tools"])
        meta = r["metadata"]
        assert meta["channel"] in {"web", "email", "slack"}
        assert meta["customer_tier"] in {"free", "pro", "enterprise"}
        assert re.fullmatch(r"2026-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["created_at"])


def test_tool_calls_are_answered_by_their_results(records):
    for r in records:
        msgs = r["messages"]
        for i, m in enumerate(msgs):
            for call in m.get("tool_calls") or []:
                assert msgs[i + 1]["role"] == "tool" and msgs[i + 1]["tool_call_id"] == call["id"]


def test_conversations_have_two_to_eight_turns_some_long_some_not_english(records):
    def turns(r):
        return sum(m["role"] in ("user", "assistant") and not m.get("tool_calls")
                   for m in r["messages"])

    assert {turns(r) for r in records} <= set(range(2, 9))
    assert any(len(m["content"]) > 2000 for r in records for m in r["messages"] if m["role"] == "tool")
    assert sum(any(ch in m["content"] for m in r["messages"] if m["content"] for ch in "äöüßéèêŁł")
               for r in records) >= 2
    assert Counter(r["metadata"]["model"] for r in records).most_common()[-1][1] > 60


def test_every_category_has_at_least_five_templates():
    assert sorted(TEMPLATES) == sorted(MIX)
    assert {label: len(fns) >= 5 for label, fns in TEMPLATES.items()} == {k: True for k in MIX}


def words(record) -> set[str]:
    text = " ".join(m.get("content") or "" for m in record["messages"][1:])
    return set(re.findall(r"[a-z]+", text.lower()))


def best_single_word_f1(items) -> dict[str, float]:
    """Per category, the F1 of the best rule "the transcript contains word w"."""
    labels = Counter(g.story.label for g in items)
    hits: dict[str, Counter] = {}
    for g in items:
        for w in words(g.record):
            hits.setdefault(w, Counter())[g.story.label] += 1
    best = dict.fromkeys(labels, 0.0)
    for per_label in hits.values():
        total = sum(per_label.values())
        for label, tp in per_label.items():
            f1 = 2 * tp / (tp + total + labels[label])
            best[label] = max(best[label], f1)
    return best


def test_no_single_word_gives_a_category_away():
    """A model needs several signals: no word alone picks out a category (best F1 well below 1;
    about 0.4-0.6 today)."""
    best = best_single_word_f1(generate_transcripts())
    assert {k: v < 0.7 for k, v in best.items()} == {k: True for k in MIX}, best


def test_category_mix_is_mostly_pipeline_with_some_no_failure():
    labels = Counter(g.story.label for g in generate_transcripts())
    assert labels == Counter(MIX)
    failures = sum(n for k, n in labels.items() if k != "no_failure")
    pipeline = sum(labels[k] for k in ("missing_knowledge", "wrong_retrieval", "noisy_context",
                                       "missed_tool_call"))
    assert 0.58 <= pipeline / failures <= 0.68
    assert labels["no_failure"] == 45


def test_synthetic_reviewers_label_80_percent_with_20_percent_overlap(annotations):
    labels = [a for a in annotations if a["kind"] == "label"]
    per_transcript = Counter(a["transcript_id"] for a in labels)
    assert len(per_transcript) == 240
    assert sum(n == 2 for n in per_transcript.values()) == 48
    assert {a["annotator"] for a in labels} == {"maria", "deniz"}
    assert [a["annotator"] for a in annotations if a["kind"] == "adjudication"] == ["lead", "lead"]
    assert all(20_000 <= a["duration_ms"] < 121_000 and a["queue"] == "random" for a in labels)
    assert sum(a["prelabel_visible"] for a in labels) < len(labels) * 0.2
    assert sum(bool(a["note"]) for a in labels) > 30
    assert sum(bool(a["ideal_response"]) for a in labels) > 10
    assert len({a["created_at"][:10] for a in annotations}) >= 8


def test_load_demo_gives_final_labels_with_every_status(db, taxonomy):
    summary = load_demo(db, taxonomy)
    assert (summary.loaded, summary.transcripts, summary.labels, summary.adjudications) == (
        True, 300, 288, 2)
    statuses = dict(db.con.execute(
        "SELECT status, count(*) FROM final_labels GROUP BY status").fetchall())
    assert statuses == {"single": 192, "agreed": 42, "disagreement": 4, "adjudicated": 2}
    shares = dict(db.con.execute(
        "SELECT fix_class, count(*) FROM final_labels WHERE fix_class IS NOT NULL "
        "GROUP BY fix_class").fetchall())
    failures = shares["pipeline"] + shares["behavior"] + shares["model"]
    assert shares["pipeline"] / failures > 0.6  # a clear pipeline-first verdict


def test_demo_rows_are_marked_and_carry_the_taxonomy_version(db, taxonomy):
    load_demo(db, taxonomy)
    assert db.con.execute(
        "SELECT DISTINCT origin, taxonomy_name, taxonomy_version FROM annotations").fetchall() == [
        ("demo", "default", taxonomy.version)]
    assert db.con.execute(
        "SELECT file_name, format, source, rows_read, rows_imported, imported_by "
        "FROM import_batches").fetchall() == [
        ("demo/transcripts.jsonl", "jsonl", "demo", 300, 300, "demo")]
    assert db.con.execute("SELECT DISTINCT source FROM transcripts").fetchall() == [("demo",)]


def test_loading_the_demo_twice_does_nothing(db, taxonomy):
    assert is_empty(db)
    load_demo(db, taxonomy)
    again = load_demo(db, taxonomy)
    assert not again.loaded and not is_empty(db)
    assert db.con.execute("SELECT count(*) FROM transcripts").fetchone()[0] == 300
    assert db.con.execute("SELECT count(*) FROM annotations").fetchone()[0] == 290


def test_demo_into_a_database_holding_other_transcripts_stores_nothing(db, taxonomy):
    # The demo lives apart: a database with anyone's transcripts (here the very conversations
    # of the bundled file, under another source) gets none of it.
    assert import_file(db, TRANSCRIPTS_PATH, source="mine").rows_imported == 300
    with pytest.raises(UsageError, match="already holds 300 other transcripts"):
        load_demo(db, taxonomy)
    assert db.con.execute("SELECT count(*) FROM annotations").fetchone()[0] == 0
    assert db.con.execute("SELECT source, count(*) FROM import_batches GROUP BY 1").fetchall() == [
        ("mine", 1)]
    assert db.con.execute("SELECT DISTINCT source FROM transcripts").fetchall() == [("mine",)]
