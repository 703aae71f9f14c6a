"""Fix class `unknown` ("Other", a discovered category without a fix class): failures counted
in n, as neither pipeline nor behavior, and the report says so."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.report.build import build_report
from core.store.annotations import add_annotations
from core.store.categories import register_taxonomy
from core.taxonomy import TAXONOMY_DIR, parse_taxonomy
from tests.conftest import add_transcripts, make_record
from tests.report_helpers import ann

OTHER = '''
[[categories]]
key = "other"
name = "Other — describe it"
fix_class = "unknown"
definition = "Nothing above fits; describe it in the note."
not_this_when = "A category above fits."
examples = ["Something new."]
typical_fix = "Not known yet."
'''


def labeled_set(db, taxonomy, counts: dict[str, int]) -> None:
    labels = [k for k, n in counts.items() for _ in range(n)]
    ids = add_transcripts(db, [make_record(i) for i in range(len(labels))])
    add_annotations(db, [ann(taxonomy, tid, "ann", lab, i) for i, (tid, lab) in
                         enumerate(zip(ids, labels, strict=True))], taxonomy.keys)


@pytest.fixture
def with_other(tmp_path, db):
    path = tmp_path / "default.toml"
    path.write_text((TAXONOMY_DIR / "default.toml").read_text(encoding="utf-8") + OTHER,
                    encoding="utf-8")
    t = parse_taxonomy(path)
    register_taxonomy(db, t)
    return t


def test_unknown_failures_stay_in_n_and_are_neither_pipeline_nor_behavior(db, with_other):
    labeled_set(db, with_other, {"wrong_retrieval": 114, "other": 40, "tone_policy": 46})
    r = build_report(db, with_other, generated_at=datetime(2026, 3, 3))
    assert r.n_failures == 200 and list(r.fix_classes) == ["pipeline", "behavior", "model", "unknown"]
    assert (r.fix_classes["pipeline"].count, r.fix_classes["unknown"].count) == (114, 40)
    assert round(r.fix_classes["pipeline"].ci_low, 4) == 0.5007 and r.verdict == "pipeline_first"
    (warning,) = [w for w in r.warnings if "fix class unknown" in w]
    assert warning.startswith("40 failures (20%) have fix class unknown")
    assert "neither pipeline nor behavior" in warning


def test_unknown_leading_cannot_decide(db, with_other):
    labeled_set(db, with_other, {"wrong_retrieval": 60, "other": 140})
    r = build_report(db, with_other, generated_at=datetime(2026, 3, 3))
    assert r.verdict == "inconclusive" and r.leading_class == "unknown"
    assert r.more_failures_needed is None
    assert "cannot decide until their categories have a fix class" in r.more_failures_reason


def test_no_unknown_class_row_without_unknown_failures(db, with_other):
    labeled_set(db, with_other, {"wrong_retrieval": 10})
    r = build_report(db, with_other, generated_at=datetime(2026, 3, 3))
    assert list(r.fix_classes) == ["pipeline", "behavior", "model"]
    assert not [w for w in r.warnings if "unknown" in w]
