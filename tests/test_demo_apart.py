"""The demo lives apart (issue 14, point 1), on real data: the demo and a team database side by
side, no demo row ever in the team's, refusals that name the way out, an earlier version's mixed
database read without its demo rows until `triage demo --remove` deletes them in one go."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.admin import archive_batch
from core.demo import load_demo
from core.errors import DemoDatabase, UsageError
from core.ingest.pipeline import import_file
from core.prelabel.evaluate import evaluate_prelabels
from core.prelabel.plan import RunOptions, plan_offline
from core.report.build import build_report
from core.report.render import render_markdown
from core.store.connection import connect
from core.store.demo_rows import demo_counts
from core.store.overview import final_label_counts
from core.store.prelabels import human_final_labels
from core.store.settings import set_setting
from core.store.transcripts import get_transcripts
from tests.conftest import ROOT, add_transcripts
from tests.demo_helpers import demo_database
from tests.ingest_helpers import cli
from tests.seed_helpers import texts
from tests.team_helpers import TAU, record_ids, team_database


def _rows(db, sql: str) -> list[tuple]:
    return db.con.execute(sql).fetchall()


def test_fresh_folder_demo_then_own_database_keeps_them_apart(tmp_path, monkeypatch, capsys,
                                                              shared_data):
    """What a new user types: `triage demo` (what `triage app` loads on first start), then
    `triage import` of their own file: two files, no row of one in the other."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIAGE_DB", raising=False)
    from core.cli.main import run

    assert run(["demo"]) == 0
    assert run(["import", str(shared_data / TAU), "--source", "tau2"]) == 0
    out = capsys.readouterr()
    assert "imported          200" in out.out and "snapshot: wrote triage.snapshot.duckdb" in out.err
    team, demo = connect(tmp_path / "triage.duckdb"), connect(tmp_path / "triage-demo.duckdb")
    try:
        assert _rows(team, "SELECT source, count(*) FROM transcripts GROUP BY 1") == [("tau2", 200)]
        assert _rows(team, "SELECT count(*) FROM annotations") == [(0,)]
        assert _rows(team, "SELECT count(*) FROM import_batches WHERE source = 'demo'") == [(0,)]
        assert _rows(demo, "SELECT DISTINCT source FROM transcripts") == [("demo",)]
        assert demo_counts(team).state == "team" and demo_counts(demo).state == "demo"
    finally:
        team.close()
        demo.close()
    from core.cli.app_cmd import app_database
    from core.config import load_settings

    assert app_database(load_settings(env={})).path.name == "triage.duckdb"  # now it opens yours


def test_import_into_the_demo_database_is_refused_naming_the_way_out(tmp_path, capsys,
                                                                     shared_data):
    demo = tmp_path / "triage-demo.duckdb"
    demo_database(demo)
    code, out, err = cli(capsys, demo, "import", str(shared_data / TAU))
    assert code == 2 and out == ""
    assert "holds the bundled demo (300 transcripts" in err
    assert "`triage --db mine.duckdb import FILE`" in err and "demo --remove" in err
    labels = tmp_path / "labels.csv"
    labels.write_text("transcript_id,annotator,primary_label\ndemo-0001,ann,reasoning\n")
    code, _, err = cli(capsys, demo, "annotations", "import", str(labels))
    assert code == 2 and "holds the bundled demo" in err
    db = connect(demo)
    try:
        assert _rows(db, "SELECT DISTINCT source FROM transcripts") == [("demo",)]
        assert _rows(db, "SELECT count(*) FROM annotations WHERE origin <> 'demo'") == [(0,)]
    finally:
        db.close()


def test_the_source_name_demo_is_reserved(db, tmp_path, shared_data):
    with pytest.raises(UsageError, match="reserved for the bundled demo"):
        import_file(db, shared_data / TAU, source="demo")
    assert demo_counts(db).demo == 0


def test_the_import_page_on_the_demo_refuses_and_offers_the_team_database(tmp_path, monkeypatch):
    demo = tmp_path / "triage-demo.duckdb"
    demo_database(demo)
    monkeypatch.setenv("TRIAGE_DB", str(demo))
    monkeypatch.setenv("TRIAGE_USER", "ayla")
    at = AppTest.from_file(str(ROOT / "pages" / "import.py"), default_timeout=30).run()
    shown = texts(at)
    assert "holds the bundled demo (300 transcripts" in shown
    assert "`triage --db mine.duckdb import FILE`" in shown
    assert not at.get("file_uploader")  # nothing to upload into the demo
    assert at.button(key="start_team_database").label == "Start our own database (triage.duckdb)"
    assert "Demo" in at.markdown[0].value  # marked on every page, from bootstrap


def test_start_own_database_moves_the_app_off_the_demo(tmp_path, monkeypatch):
    demo = tmp_path / "triage-demo.duckdb"
    demo_database(demo)
    monkeypatch.setenv("TRIAGE_DB", str(demo))
    monkeypatch.setenv("TRIAGE_USER", "ayla")
    at = AppTest.from_file(str(ROOT / "triage_app.py"), default_timeout=30).run()
    assert {m.label: m.value for m in at.metric}["Transcripts"] == "300"
    at.button(key="start_team_database").click().run()
    assert not at.exception, at.exception
    team = tmp_path / "triage.duckdb"
    assert team.exists()
    assert {m.label: m.value for m in at.metric}["Transcripts"] == "0"
    assert "now serves your team's database `triage.duckdb`" in texts(at)
    assert not any("Demo" in m.value for m in at.markdown)
    again = AppTest.from_file(str(ROOT / "pages" / "import.py"), default_timeout=30).run()
    assert again.get("file_uploader")  # another session of this server: the team's database
    db = connect(team)
    try:
        assert _rows(db, "SELECT count(*) FROM transcripts") == [(0,)]
        assert _rows(db, "SELECT action, done_by FROM admin_log") == [("start_database", "ayla")]
    finally:
        db.close()
    # Restarted later without --db in that folder (this server stopped), `triage app` opens
    # the team's database: its start is recorded in it.
    from core import ui
    from core.cli.app_cmd import app_database
    from core.config import load_settings
    from core.store.snapshot import scheduler_for

    served = ui._database(str(team.resolve()))
    scheduler_for(served).cancel()
    served.close()
    ui._database.clear()
    monkeypatch.chdir(tmp_path)
    assert app_database(load_settings(env={})).path.name == "triage.duckdb"


def mixed_database(path, data) -> list[str]:
    """What an earlier version made: the demo loaded, then the team's 200 tau-bench
    transcripts stored beside it (through the store, as that version's import did), 40 of
    them labeled."""
    demo_database(path)
    db = connect(path)
    try:
        import json

        rows = [json.loads(line) for line in (data / TAU).read_text().splitlines() if line]
        add_transcripts(db, rows, source="tau2", batch_id="tau-batch")
    finally:
        db.close()
    return _label_team(path, data)


def _label_team(path, data) -> list[str]:
    from core.store.annotations import add_annotations
    from core.store.transcripts import get_transcripts
    from core.taxonomy import load_taxonomy
    from tests.team_helpers import _label

    taxonomy = load_taxonomy("default")
    ids = sorted(record_ids(data / TAU))[:40]
    db = connect(path)
    try:
        keys = ["missed_tool_call", "reasoning", "escalation", "no_failure"]
        add_annotations(db, [_label(taxonomy, t, "ayla", keys[i % 4], "random", i)
                             for i, t in enumerate(get_transcripts(db, ids))], taxonomy.keys)
    finally:
        db.close()
    return ids


def test_a_mixed_database_reads_without_its_demo_rows(tmp_path, shared_data, taxonomy):
    path = tmp_path / "old.duckdb"
    team_ids = mixed_database(path, shared_data)
    db = connect(path)
    try:
        assert demo_counts(db).state == "mixed"
        trained_on = human_final_labels(db)
        assert {t for t, _ in trained_on} == set(team_ids)  # the team's human labels only
        plan = plan_offline(db, taxonomy, RunOptions(offline=True))
        assert plan.offline_model.n_labels == 40 and plan.offline_model.kind == "tfidf-logreg"
        planned = get_transcripts(db, [i.transcript_id for i in plan.items])
        assert {t.source for t in planned} == {"tau2"}  # never pre-labels the demo
        report = build_report(db, taxonomy)
        assert (report.n_transcripts, report.n_labeled, report.left_out["demo"]) == (200, 40, 300)
        assert report.agreement.n_items == 0  # the demo's 48 double-labeled items are not yours
        assert any("also holds the bundled demo (300 transcripts" in w for w in report.warnings)
        assert "`triage demo --remove` deletes them" in render_markdown(report, taxonomy)
        assert sum(final_label_counts(db).values()) == 40  # Home counts yours
        evaluation = evaluate_prelabels(db, taxonomy, "offline")
        assert evaluation["n"] <= 40
    finally:
        db.close()


def test_archived_transcripts_leave_training_and_the_report(tmp_path, shared_data, taxonomy):
    path = tmp_path / "team.duckdb"
    labeled = team_database(path, shared_data, n_labels=30)
    db = connect(path)
    try:
        batch = _rows(db, "SELECT batch_id FROM import_batches")[0][0]
        settled = len(human_final_labels(db))  # 30 labeled, a few open disagreements
        assert 20 < settled <= 30
        assert build_report(db, taxonomy).n_labeled == settled
        archive_batch(db, batch, "ayla")
        assert human_final_labels(db) == []
        report = build_report(db, taxonomy)
        assert (report.n_transcripts, report.n_labeled, report.left_out["archived"]) == (0, 0, 200)
        assert plan_offline(db, taxonomy, RunOptions(offline=True)).offline_model.n_labels == 0
        assert len(labeled) == 30
    finally:
        db.close()


def test_demo_remove_deletes_every_demo_row_in_one_go(tmp_path, shared_data, capsys, taxonomy):
    path = tmp_path / "old.duckdb"
    team_ids = mixed_database(path, shared_data)
    db = connect(path)
    try:
        demo_batch = _rows(db, "SELECT batch_id FROM import_batches WHERE source = 'demo'")[0][0]
        archive_batch(db, demo_batch, "ayla")  # what the user of the issue did first
        set_setting(db, "queue_seed", 3, "demo")  # a setting an earlier demo loader wrote
        from core.prelabel.run import prelabel_offline_all

        prelabel_offline_all(db, taxonomy)  # trained on the team's labels only (offline, free)
        n_team_prelabels = _rows(db, "SELECT count(*) FROM prelabels p JOIN transcripts t "
                                     "USING (transcript_id) WHERE t.source = 'tau2'")[0][0]
    finally:
        db.close()
    code, out, _ = cli(capsys, path, "demo", "--remove")
    assert code == 0
    assert out.startswith(f"Removed the demo from {path}: 300 transcripts, 290 annotations, "
                          "300 pre-labels")
    assert "1 settings rows" in out and "1 admin-log rows" in out
    assert f"{n_team_prelabels} offline pre-labels of your transcripts" in out
    db = connect(path)
    try:
        assert demo_counts(db).demo == 0
        assert _rows(db, "SELECT DISTINCT source FROM transcripts") == [("tau2",)]
        assert {t for t, _ in human_final_labels(db)} == set(team_ids)
        assert _rows(db, "SELECT count(*) FROM import_batches") == [(0,)]  # tau-batch had no row
        assert _rows(db, "SELECT count(*) FROM annotations") == [(40,)]
        assert _rows(db, "SELECT count(*) FROM settings WHERE set_by = 'demo'") == [(0,)]
        assert build_report(db, taxonomy).left_out == {"demo": 0, "archived": 0}
    finally:
        db.close()
    code, out, _ = cli(capsys, path, "demo", "--remove")
    assert (code, out) == (0, f"{path} holds no demo rows; nothing removed.\n")


def test_the_demo_refuses_a_team_database(tmp_path, shared_data, taxonomy):
    path = tmp_path / "team.duckdb"
    team_database(path, shared_data, n_labels=0)
    db = connect(path)
    try:
        with pytest.raises(UsageError, match="already holds 200 other transcripts"):
            load_demo(db, taxonomy)
        assert demo_counts(db).demo == 0
        demo_database(tmp_path / "triage-demo.duckdb")  # and the other way round
        demo = connect(tmp_path / "triage-demo.duckdb")
        try:
            with pytest.raises(DemoDatabase):
                import_file(demo, shared_data / TAU, source="tau2")
        finally:
            demo.close()
    finally:
        db.close()


def test_home_on_a_mixed_database_counts_the_teams_rows_and_says_the_demo_is_there(
        tmp_path, shared_data, monkeypatch):
    path = tmp_path / "old.duckdb"
    mixed_database(path, shared_data)
    monkeypatch.setenv("TRIAGE_DB", str(path))
    monkeypatch.setenv("TRIAGE_USER", "ayla")
    at = AppTest.from_file(str(ROOT / "triage_app.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Transcripts"], shown["Labeled"], shown["Double-labeled"]) == ("200", "40", "0")
    assert "also holds the bundled demo (300 transcripts)" in at.markdown[0].value
    assert "`triage demo --remove` deletes them" in at.markdown[0].value
    assert not at.button  # no "start our own database" here: this one holds the team's data


def test_an_earlier_versions_demo_in_triage_duckdb_is_told_how_to_empty_it(tmp_path, monkeypatch):
    path = tmp_path / "triage.duckdb"
    demo_database(path)
    monkeypatch.setenv("TRIAGE_DB", str(path))
    monkeypatch.setenv("TRIAGE_USER", "ayla")
    at = AppTest.from_file(str(ROOT / "triage_app.py"), default_timeout=30).run()
    assert not at.button  # starting "our own" triage.duckdb would be this very file
    assert any(f"`triage --db {path} demo --remove` empties it" in c.value for c in at.caption)
