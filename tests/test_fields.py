"""Who sees which field (issue 14, point 2), on the real tau-bench and Who&When records: the
outcome-like keys are absent from every element the reviewers' pages render (whoever looks),
Browse shows them to admins only, and the report prints no per-example metadata in any of its
four formats until `report_fields` allows a key, which then shows in all four."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from streamlit.testing.v1 import AppTest

from core.labels.fields import matches, without_fields
from core.report.build import build_report
from core.report.pdf import html_to_pdf
from core.report.render import render_html, render_markdown
from core.store.connection import connect
from core.store.settings import SETTINGS, set_setting
from tests.conftest import ROOT
from tests.seed_helpers import texts
from tests.team_helpers import TAU, TAU_OUTCOME_KEYS, TAU_SHOWN_KEYS, WHOWHEN, team_database

HIDDEN = [k.encode() for k in TAU_OUTCOME_KEYS]


def rendered(at: AppTest) -> bytes:
    """Every element the page sent to the browser, serialized (tables as Arrow bytes)."""
    out: list[bytes] = []

    def walk(node) -> None:
        if (proto := getattr(node, "proto", None)) is not None:
            out.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return b"\n".join(out)


@pytest.fixture(scope="module")
def team_db(tmp_path_factory, request):
    from tests.conftest import SHARED_DATA, require_or_skip

    require_or_skip(SHARED_DATA.is_dir(), f"{SHARED_DATA} is absent (a user's clone has no shared/)")
    path = tmp_path_factory.mktemp("fields") / "triage.duckdb"
    team_database(path, SHARED_DATA, n_labels=80, seed=3)
    return path


def page(name: str, path, user: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("TRIAGE_DB", str(path))
    monkeypatch.setenv("TRIAGE_USER", user)
    monkeypatch.setenv("TRIAGE_LOG", str(path.parent / "triage.log"))
    at = AppTest.from_file(str(ROOT / name), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_the_default_hides_the_outcome_keys_of_both_shared_datasets(shared_data):
    patterns = SETTINGS["reviewer_hidden_fields"].default
    for name, hidden in ((TAU, set(TAU_OUTCOME_KEYS)),
                         (WHOWHEN, {"ground_truth", "task_solved", "human_mistake_agent",
                                    "human_mistake_step"})):
        first = json.loads((shared_data / name).read_text().splitlines()[0])["metadata"]
        assert {k for k in first if matches(k, patterns)} == hidden, name
    assert matches("Customer_SCORE", ["*score*"]) and not matches("channel", patterns)
    nested = {"info": {"gold_label": 1, "tier": "pro"}, "runs": [{"reward": 1, "id": 2}]}
    assert without_fields(nested, patterns) == {"info": {"tier": "pro"}, "runs": [{"id": 2}]}


def test_annotate_never_renders_a_hidden_key_even_to_an_admin(team_db, monkeypatch):
    at = page("pages/annotate.py", team_db, "ayla", monkeypatch)  # no admins set: ayla is one
    shown = rendered(at)
    assert b"taubench-airline" in shown and b"user_instruction" in shown  # the metadata is drawn
    assert [k for k in HIDDEN if k in shown] == []


def test_adjudicate_never_renders_a_hidden_key(team_db, monkeypatch):
    at = page("pages/adjudicate.py", team_db, "lead", monkeypatch)
    assert "open disagreement" in texts(at)
    shown = rendered(at)
    assert b"agent_model" in shown
    assert [k for k in HIDDEN if k in shown] == []


def test_browse_shows_hidden_keys_to_admins_only(team_db, monkeypatch):
    db = connect(team_db)
    set_setting(db, "admins", ["lead"], "lead")
    db.close()
    try:
        reviewer = page("pages/browse.py", team_db, "zoe", monkeypatch)
        columns = list(reviewer.dataframe[0].value.columns)
        assert "meta.agent_model" in columns
        assert [c for c in columns if c.removeprefix("meta.") in TAU_OUTCOME_KEYS] == []
        assert [k for k in HIDDEN if k in rendered(reviewer)] == []  # nor in the filter list
        admin = page("pages/browse.py", team_db, "lead", monkeypatch)
        assert b"reward" in rendered(admin)
        assert "reward" in admin.selectbox(key="browse_meta_field").options
    finally:
        db = connect(team_db)
        set_setting(db, "admins", [], "lead")
        db.close()


def test_the_import_panel_lists_the_hidden_keys_and_an_admin_changes_them(team_db, monkeypatch,
                                                                          shared_data):
    from core.labels.fields import hidden_among, metadata_keys

    records = [json.loads(line) for line in (shared_data / TAU).read_text().splitlines()[:3]]
    db = connect(team_db)
    try:
        assert hidden_among(db, metadata_keys(records)) == sorted(TAU_OUTCOME_KEYS)
    finally:
        db.close()
    monkeypatch.setenv("TRIAGE_DB", str(team_db))
    monkeypatch.setenv("TRIAGE_USER", "ayla")
    # The panel the Import page draws under a file's preview, for that file's keys.
    script = f"""
import streamlit as st
from core.ui import bootstrap, hidden_fields_panel
ctx = bootstrap("Import")
hidden_fields_panel(ctx, {metadata_keys(records)!r}, "t")
"""
    panel = AppTest.from_string(script, default_timeout=60).run()
    shown = texts(panel)
    assert "Hidden on Annotate and Adjudicate" in shown
    for key in TAU_OUTCOME_KEYS:
        assert f"`{key}`" in shown.split("Shown:")[0]
    panel.text_area[0].set_value("*reward*\nr_*")
    panel.button[0].click().run()
    db = connect(team_db)
    try:
        from core.store.settings import get_setting

        assert get_setting(db, "reviewer_hidden_fields") == ["*reward*", "r_*"]
        set_setting(db, "reviewer_hidden_fields", SETTINGS["reviewer_hidden_fields"].default, "ayla")
    finally:
        db.close()


def printed(key: str, text: str) -> bool:
    """Whether a metadata key is printed as one: `key: value`, or `"key":` in JSON."""
    return f"{key}:" in text or f'"{key}":' in text


def _formats(db, taxonomy, chromium_path) -> dict[str, str]:
    report = build_report(db, taxonomy)
    page = render_html(report, taxonomy)
    pdf = html_to_pdf(page, chromium_path)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    # Plotly's library is inlined in the HTML: look at what the report wrote, not at plotly.js.
    written = re.sub(r"<script type='text/javascript'>.*?</script>", "", page, count=1, flags=re.S)
    return {"markdown": render_markdown(report, taxonomy), "html": written,
            "json": json.dumps(report.to_dict()), "pdf": text}


def test_report_prints_no_metadata_until_report_fields_allows_a_key(team_db, taxonomy,
                                                                    chromium_path):
    db = connect(team_db)
    try:
        before = _formats(db, taxonomy, chromium_path)
        for fmt, text in before.items():
            assert "Appendix" in text or fmt == "json", fmt
            for key in (*TAU_OUTCOME_KEYS, *TAU_SHOWN_KEYS):
                assert not printed(key, text), (fmt, key)
        set_setting(db, "report_fields", ["reward", "task_id"], "ayla")
        after = _formats(db, taxonomy, chromium_path)
        for fmt, text in after.items():
            assert printed("reward", text) and printed("task_id", text), fmt
            assert not printed("user_instruction", text), fmt
            assert not printed("expected_actions", text), fmt
        example = build_report(db, taxonomy).examples[0]
        assert set(example.metadata) == {"reward", "task_id"}
    finally:
        set_setting(db, "report_fields", [], "ayla")
        db.close()


def test_a_queue_filtered_on_a_hidden_field_is_refused(team_db):
    from core.errors import UsageError
    from core.labels.queues import QueueSpec, load_queue

    db = connect(team_db)
    try:
        with pytest.raises(UsageError, match="'reward' is hidden from reviewers"):
            load_queue(db, "ayla", QueueSpec("filtered", field="reward", value="0.0"))
        assert load_queue(db, "ayla", QueueSpec("filtered", field="domain", value="airline"))
    finally:
        db.close()
