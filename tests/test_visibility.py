"""The visibility rule (core/store/visibility.py) on the SQL page: an analyst who also reviews
reads no blind label of an open double-labeled transcript and no hidden pre-label, in any table
or view the sandbox exposes; once the overlap is complete, or for an analyst who reviews
nothing, everything shows."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from streamlit.testing.v1 import AppTest

from core.config import snapshot_path_for
from core.labels.visibility import viewer_for
from core.store.sandbox import run_query
from core.store.settings import set_setting
from core.store.snapshot import write_snapshot
from tests.analysts_helpers import _label, fill
from tests.conftest import ROOT

# With overlap_share 1 every transcript is an overlap item: t1, t3, t5, t6 and t7 carry alice's
# label alone, so they are open for bob (who reviews: he labeled t0, t2, t4).
OPEN = ["t1", "t3", "t5", "t6", "t7"]
SECRET = {"t1": ("missed_tool_call", "wrong_retrieval"), "t5": ("wrong_retrieval", None),
          "t7": ("escalation", None)}


@pytest.fixture
def filled(db, taxonomy):
    fill(db, taxonomy)
    set_setting(db, "overlap_share", 1.0, "test")
    return db


def _sql_page(db, monkeypatch, user: str) -> AppTest:
    db.close()
    monkeypatch.setenv("TRIAGE_DB", str(db.path))
    monkeypatch.setenv("TRIAGE_USER", user)
    at = AppTest.from_file(str(ROOT / "pages" / "sql.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def _close_page(db) -> None:
    from core.store.snapshot import scheduler_for
    from core.ui import _database

    live = _database(str(db.path))
    if scheduler := scheduler_for(live):
        scheduler.cancel()
    _database.clear()
    live.close()


def _run(at: AppTest, sql: str):
    at.text_area(key="sql_text").set_value(sql)
    at.button(key="sql_run").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, at.error[0].value
    return at.dataframe[0].value


LABELED = ("SELECT transcript_id FROM final_labels UNION SELECT transcript_id FROM prelabels "
           "UNION SELECT transcript_id FROM ppi_inputs UNION SELECT transcript_id FROM "
           "annotations ORDER BY 1")


def test_sql_page_hides_open_blind_labels_from_a_reviewer_until_the_overlap_completes(
        filled, taxonomy, monkeypatch):
    at = _sql_page(filled, monkeypatch, "bob")
    try:
        assert _run(at, LABELED)["transcript_id"].tolist() == ["t0", "t2", "t4"]
    finally:
        _close_page(filled)
    from core.store.connection import connect

    db = connect(filled.path)
    _label(db, taxonomy, 1, "bob", "missed_tool_call")  # the second label lands: t1 is complete
    at = _sql_page(db, monkeypatch, "bob")
    try:
        assert _run(at, LABELED)["transcript_id"].tolist() == ["t0", "t1", "t2", "t4"]
    finally:
        _close_page(db)


def test_sql_page_shows_everything_to_an_analyst_who_reviews_nothing(filled, monkeypatch):
    at = _sql_page(filled, monkeypatch, "ana")
    try:
        assert _run(at, LABELED)["transcript_id"].tolist() == [f"t{i}" for i in range(8)]
    finally:
        _close_page(filled)


def test_pre_labels_hidden_by_the_display_setting_are_absent_for_a_reviewer(filled):
    set_setting(filled, "overlap_share", 0.0, "test")
    set_setting(filled, "prelabel_display", "blind", "test")
    write_snapshot(filled)
    snap = snapshot_path_for(filled.path)
    rows = run_query(snap, "SELECT DISTINCT transcript_id FROM prelabels ORDER BY 1",
                     viewer=viewer_for(filled, "bob")).table.column("transcript_id").to_pylist()
    assert rows == ["t0", "t2", "t4"]  # bob labeled these; the others' pre-labels wait
    everyone = run_query(snap, "SELECT count(DISTINCT transcript_id) AS n FROM prelabels",
                         viewer=viewer_for(filled, "ana")).table.column("n").to_pylist()
    assert everyone == [8]


def test_no_relation_the_sandbox_exposes_leaks_a_hidden_label(filled):
    """Every table and view, later ones included: none holds a row of an open transcript with
    its blind label or pre-label, and the snapshot's views all exist in the filtered copy."""
    filled.con.execute("CREATE VIEW later_view AS SELECT a.transcript_id, a.primary_label, "
                       "p.primary_label AS pre FROM annotations a JOIN prelabels p "
                       "USING (transcript_id)")  # a view nobody told the rule about
    write_snapshot(filled)
    snap = snapshot_path_for(filled.path)
    bob = viewer_for(filled, "bob")
    names = sorted(run_query(snap, "SELECT table_name AS n FROM duckdb_tables() UNION "
                             "SELECT view_name FROM duckdb_views() WHERE NOT internal",
                             viewer=bob).table.column("n").to_pylist())
    everything = sorted(run_query(snap, "SELECT table_name AS n FROM duckdb_tables() UNION "
                                  "SELECT view_name FROM duckdb_views() WHERE NOT internal")
                        .table.column("n").to_pylist())
    assert names == everything and "later_view" in names
    checked = 0
    for name in names:
        cols = run_query(snap, f'DESCRIBE "{name}"', viewer=bob).table.column(
            "column_name").to_pylist()
        if "transcript_id" not in cols:
            continue
        rows = run_query(snap, f"SELECT * FROM \"{name}\" WHERE transcript_id IN "
                         f"({', '.join(repr(t) for t in OPEN)})", 100_000, viewer=bob).table
        for row in rows.to_pylist():
            secret = {s for s in SECRET.get(row["transcript_id"], ()) if s}
            leaked = secret & {str(v) for v in row.values()}
            assert not leaked, (name, row)
        checked += 1
    assert checked >= 8  # annotations, prelabels, current_labels, final_labels, ppi_*, later_view…


def _browse_seen(db, user: str) -> dict[str, tuple]:
    from core.labels.browse import browse, browse_query

    rows = browse(db, browse_query(db, user), meta_fields=[]).rows
    return {r.transcript_id: (r.status, None if r.prelabel != r.prelabel else r.prelabel)
            for r in rows.itertuples()}


def test_browse_hides_what_the_rule_hides_from_a_reviewer_before_his_first_label_too(filled):
    """Browse reads the shared rule: bob's hidden transcripts are exactly the rule's, and cat,
    who has labeled nothing yet, is as blind there (he is about to label them) as bob."""
    from core.store.visibility import load_hidden

    bob = viewer_for(filled, "bob")
    load_hidden(filled.con, bob, into="_bob_hidden")
    ruled = {r[0] for r in filled.con.execute(
        "SELECT transcript_id FROM _bob_hidden WHERE labels_hidden").fetchall()}
    assert ruled == set(OPEN)
    for user in ("bob", "cat"):
        seen = _browse_seen(filled, user)
        pending = {t for t, (status, _) in seen.items() if status == "pending second review"}
        assert pending == set(OPEN), user
        assert all(seen[t][1] is None for t in OPEN), user  # no pre-label beside them either
    assert _browse_seen(filled, "alice")["t1"] == ("single", "wrong_retrieval")  # her own


def test_browse_blanks_the_pre_labels_the_display_setting_keeps_back(filled):
    set_setting(filled, "overlap_share", 0.0, "test")
    set_setting(filled, "prelabel_display", "blind", "test")
    seen = _browse_seen(filled, "bob")
    assert {t for t, (_, pre) in seen.items() if pre} == {"t0", "t2", "t4"}  # bob's own
    assert seen["t1"] == ("single", None)  # the label shows (no overlap); the pre-label waits
    set_setting(filled, "prelabel_display", "shown", "test")
    assert _browse_seen(filled, "bob")["t1"] == ("single", "wrong_retrieval")


def _export_ids(db_path, tmp_path, user: str, what: str, capsys) -> tuple[set[str], str]:
    from core.cli.main import run

    out = tmp_path / f"{user}-{what}"
    fmt = "jsonl"
    assert run(["--db", str(db_path), "--user", user, "export", "--what", what, "--format", fmt,
                "--output", str(out)]) == 0
    files = sorted(out.glob("*.jsonl")) if out.is_dir() else [out]
    ids = set()
    for f in files:
        for line in f.read_text().splitlines():
            row = json.loads(line)
            ids.add(row.get("transcript_id") or row.get("id"))
    return ids, capsys.readouterr().err


@pytest.mark.parametrize("what", ["annotations", "final-labels", "prelabels", "eval-set"])
def test_triage_export_leaves_out_what_the_rule_hides_from_its_user(filled, tmp_path, capsys,
                                                                   what):
    """The CLI user (--user) who labels gets the exports as the SQL page shows them, told what
    was left out; one who labels nothing gets everything, with no note."""
    filled.close()
    ids, err = _export_ids(filled.path, tmp_path, "bob", what, capsys)
    assert ids and not ids & set(OPEN), ids
    # every transcript is an overlap item here: bob reads no pre-label of the 7 he has not
    # labeled (the 5 open ones and 2 nobody labeled), as Annotate shows them blind
    hidden = 7 if what == "prelabels" else 5
    assert f"of {hidden} transcripts are left out" in err and "'bob'" in err
    everything, err = _export_ids(filled.path, tmp_path, "ana", what, capsys)
    assert set(OPEN) <= everything and "left out" not in err


def test_sql_page_export_button_leaves_out_blind_labels(filled, monkeypatch):
    at = _sql_page(filled, monkeypatch, "bob")
    try:
        at.selectbox(key="export_what").set_value("final-labels")
        at.button(key="export_prepare").click()
        at.run()
        assert not at.exception, at.exception
        ready = at.session_state["export_file"]
        ids = {json.loads(line)["transcript_id"] for line in ready.data.decode().splitlines()}
        assert ids == {"t0", "t2", "t4"}
        assert any("of 5 transcripts are left out" in w.value for w in at.warning)
    finally:
        _close_page(filled)


def test_report_counts_everything_but_shows_no_blind_example(filled, taxonomy):
    """Counts are aggregates and the same for everyone; examples are per transcript, so a
    reviewer's report re-picks them without the ones whose label is hidden from him."""
    from core.report.build import as_seen_by, build_report

    when = datetime(2026, 1, 1)
    everyone = build_report(filled, taxonomy, generated_at=when)
    shown = {e.transcript_id for e in everyone.examples}
    assert shown & set(OPEN)  # the test means something: blind items are among the examples
    for report in (build_report(filled, taxonomy, generated_at=when,
                                viewer=viewer_for(filled, "bob")),
                   as_seen_by(filled, everyone, viewer_for(filled, "cat", reviewing=True))):
        assert report.examples and not {e.transcript_id for e in report.examples} & set(OPEN)
        assert ({k: v for k, v in report.to_dict().items() if k != "examples"}
                == {k: v for k, v in everyone.to_dict().items() if k != "examples"})
    assert as_seen_by(filled, everyone, viewer_for(filled, "ana")) is everyone


def test_report_page_shows_a_reviewer_no_blind_example(filled, monkeypatch):
    filled.close()
    monkeypatch.setenv("TRIAGE_DB", str(filled.path))
    monkeypatch.setenv("TRIAGE_USER", "cat")  # a reviewer who has labeled nothing yet
    at = AppTest.from_file(str(ROOT / "pages" / "report.py"), default_timeout=60)
    at.run()
    try:
        assert not at.exception, at.exception
        titles = [e.label for e in at.expander]
        assert any("·" in t for t in titles), titles  # examples are drawn
        assert not [t for t in titles if t.split(" · ")[-1] in OPEN], titles
    finally:
        _close_page(filled)


def test_adjudicate_lists_nothing_the_rule_hides(filled):
    """Adjudicate shows only open disagreements: two reviewers have labeled them, so their
    blind round is over and the rule hides neither their labels nor (shown) pre-labels."""
    from core.labels.adjudicate import open_disagreements
    from core.store.visibility import hidden_among

    ids = open_disagreements(filled)
    assert ids == ["t4"]
    for user in ("cat", "ana"):
        assert not hidden_among(filled, viewer_for(filled, user, reviewing=True), ids)


def test_a_reviewing_analyst_reads_transcripts_from_one_shared_label_free_file(filled):
    """The per-query copy holds the small label tables only; transcripts come from one file
    beside the snapshot that holds nothing else, written once per content of the table."""
    import duckdb

    from tests.conftest import add_transcripts, make_record

    write_snapshot(filled)
    snap = snapshot_path_for(filled.path)
    bob = viewer_for(filled, "bob")
    query = "SELECT count(*) AS n FROM transcripts WHERE NOT archived"
    assert run_query(snap, query, viewer=bob).table.column("n").to_pylist() == [10]
    shared = list(snap.parent.glob(f".{snap.name}.transcripts-*.duckdb"))
    assert len(shared) == 1
    with duckdb.connect(str(shared[0]), read_only=True) as con:
        assert [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()] \
            == ["transcripts"]
    mtime = shared[0].stat().st_mtime_ns
    run_query(snap, query, viewer=bob)
    assert shared[0].stat().st_mtime_ns == mtime  # reused, not written again
    add_transcripts(filled, [make_record(99)])  # an import: the table's content changes
    write_snapshot(filled)
    assert run_query(snap, query, viewer=bob).table.column("n").to_pylist() == [11]
    again = list(snap.parent.glob(f".{snap.name}.transcripts-*.duckdb"))
    assert len(again) == 1 and again != shared  # the new content, the old file removed


def test_a_background_refresh_writes_the_new_shared_file_once_one_is_in_use(filled):
    from core.store.snapshot import SnapshotScheduler
    from tests.conftest import add_transcripts, make_record

    snap = snapshot_path_for(filled.path)
    scheduler = SnapshotScheduler(filled, lambda: 0.0)

    def refresh_in_background() -> None:  # as after an import in the app, and awaited
        scheduler.refresh_soon()
        for t in list(scheduler._threads):
            t.join(60)

    refresh_in_background()  # no shared file yet: none is written
    assert not list(snap.parent.glob(f".{snap.name}.transcripts-*.duckdb"))
    run_query(snap, "SELECT 1", viewer=viewer_for(filled, "bob"))  # bob's query makes one
    first = list(snap.parent.glob(f".{snap.name}.transcripts-*.duckdb"))
    add_transcripts(filled, [make_record(99)])
    refresh_in_background()  # the refresh after the import writes the new one
    after = list(snap.parent.glob(f".{snap.name}.transcripts-*.duckdb"))
    assert len(first) == len(after) == 1 and first != after
