"""Settings and Admin: core rules and the pages (what is shown, the rows in DuckDB)."""

from __future__ import annotations

import pytest

from core.admin import archive_batch, change_setting, restore_batch, switch_taxonomy
from core.errors import PermissionDenied, UsageError
from core.store.admin import admin_log, list_batches
from core.store.settings import SETTINGS, get_setting, set_setting
from tests.conftest import make_record
from tests.seed_helpers import add_batch, app, texts


def settings_rows(db):
    return db.con.execute("SELECT key, value, set_by FROM settings ORDER BY set_at").fetchall()


def archived(db):
    return dict(db.con.execute(
        "SELECT transcript_id, archived FROM transcripts ORDER BY 1").fetchall())


def test_change_setting_is_open_to_everyone_while_admins_is_empty(db):
    assert change_setting(db, "overlap_share", 0.3, "zoe") == 0.3
    assert settings_rows(db) == [("overlap_share", "0.3", "zoe")]


def test_change_setting_refuses_non_admin_by_name(db):
    set_setting(db, "admins", ["ann"], "ann")
    with pytest.raises(PermissionDenied, match=r"'zoe' may not change the setting 'queue_seed'.*ann"):
        change_setting(db, "queue_seed", 7, "zoe")
    assert get_setting(db, "queue_seed") == 0


def test_admins_list_that_locks_out_its_author_is_refused(db):
    with pytest.raises(UsageError, match="lock yourself out"):
        change_setting(db, "admins", ["bob"], "ann")
    assert change_setting(db, "admins", ["ann", "bob"], "ann") == ["ann", "bob"]


def test_archive_and_restore_batch_flip_rows_and_log_who(db):
    add_batch(db, "b1", [make_record(i) for i in range(3)])
    add_batch(db, "b2", [make_record(i) for i in range(3, 5)])
    assert archive_batch(db, "b1", "ann") == 3
    assert archived(db) == {"t0": True, "t1": True, "t2": True, "t3": False, "t4": False}
    assert [(b.batch_id, b.archived, b.n_archived) for b in list_batches(db)] in (
        [("b1", True, 3), ("b2", False, 0)], [("b2", False, 0), ("b1", True, 3)])
    assert restore_batch(db, "b1", "ann") == 3
    assert not any(archived(db).values())
    assert [(a.action, a.target, a.detail, a.done_by) for a in admin_log(db)][::-1] == [
        ("archive", "b1", {"transcripts": 3}, "ann"), ("restore", "b1", {"transcripts": 3}, "ann")]


def test_archive_by_non_admin_is_refused_and_changes_nothing(db):
    add_batch(db, "b1", [make_record(0)])
    set_setting(db, "admins", ["ann"], "ann")
    with pytest.raises(PermissionDenied, match="'zoe' may not archive a batch"):
        archive_batch(db, "b1", "zoe")
    assert archived(db) == {"t0": False}
    assert admin_log(db) == []


def test_switch_to_unknown_taxonomy_names_the_available_ones(db):
    with pytest.raises(UsageError, match="unknown taxonomy 'nope'; available: .*default"):
        switch_taxonomy(db, "nope", "ann")
    agent = switch_taxonomy(db, "agent", "ann")
    assert settings_rows(db) == [("active_taxonomy", '"agent"', "ann")]
    assert db.con.execute("SELECT count(*) FROM categories WHERE taxonomy_name = 'agent' AND "
                          "taxonomy_version = ?", [agent.version]).fetchone() == (len(agent.keys),)
    entry = admin_log(db)[0]
    assert (entry.action, entry.target, entry.detail) == (
        "switch_taxonomy", "agent", {"from": "default", "version": agent.version})


def test_settings_page_shows_every_key_and_saves_a_change(db, db_path, monkeypatch):
    at = app("pages/settings.py", db_path, "ann", monkeypatch).run()
    shown = texts(at)
    for key, spec in SETTINGS.items():
        assert f"**`{key}`** — {spec.meaning}" in shown
    assert "everyone" in shown
    at.number_input(key="setting_value_overlap_share").set_value(0.35)
    at.button(key="FormSubmitter:setting_overlap_share-Save overlap_share").click().run()
    assert "Saved overlap_share = 0.35" in texts(at)
    assert settings_rows(db) == [("overlap_share", "0.35", "ann")]
    history = at.dataframe[0].value
    assert list(history["setting"]) == ["overlap_share"] and list(history["who"]) == ["ann"]


def test_settings_page_names_the_key_of_an_invalid_json_value(db, db_path, monkeypatch):
    at = app("pages/settings.py", db_path, "ann", monkeypatch).run()
    at.text_area(key="setting_value_price_table").set_value("{not json")
    at.button(key="FormSubmitter:setting_price_table-Save price_table").click().run()
    assert [e.value for e in at.error] == [
        "price_table: not saved. price_table: '{not json' is not valid JSON "
        "(Expecting property name enclosed in double quotes)"]
    assert settings_rows(db) == []


def test_settings_page_is_refused_to_non_admins(db, db_path, monkeypatch):
    set_setting(db, "admins", ["ann"], "ann")
    at = app("pages/settings.py", db_path, "zoe", monkeypatch).run()
    assert [e.value for e in at.error] == [
        "The Settings page is for admins. You are 'zoe' (reviewer). Ask an admin (ann) to add your "
        "name to `admins` (Admin page, or `triage config set admins '[\"ann\", \"zoe\"]'`)."]
    assert not at.number_input


def test_admin_page_archives_and_restores_a_batch(db, db_path, monkeypatch):
    add_batch(db, "b1", [make_record(i) for i in range(2)])
    at = app("pages/admin.py", db_path, "ann", monkeypatch).run()
    assert "**b1** · `b1.jsonl` (jsonl, source `support`) · 2 transcripts" in texts(at)
    at.button(key="archive_b1").click().run()
    assert "Archive batch b1? Its 2 transcripts and 0 labeled ones leave the queues" in texts(at)
    assert archived(db) == {"t0": False, "t1": False}  # asked first, nothing done yet
    at.button(key="archive_no_b1").click().run()
    assert archived(db) == {"t0": False, "t1": False} and "Archive batch b1?" not in texts(at)
    at.button(key="archive_b1").click().run()
    at.button(key="archive_yes_b1").click().run()
    assert "Archived batch b1: 2 transcripts left out of queues and the report." in texts(at)
    assert archived(db) == {"t0": True, "t1": True}
    at.button(key="restore_b1").click().run()
    assert archived(db) == {"t0": False, "t1": False}
    assert list(at.dataframe[0].value["action"]) == ["restore", "archive"]


def test_admin_page_switches_taxonomy_with_the_mixed_versions_warning(db, db_path, monkeypatch):
    at = app("pages/admin.py", db_path, "ann", monkeypatch).run()
    assert "warns when the labels come from mixed taxonomy versions" in texts(at)
    at.selectbox[0].set_value("agent")
    at.button[-1].click().run()
    assert "Active taxonomy is now agent." in texts(at)
    assert get_setting(db, "active_taxonomy") == "agent"
    assert settings_rows(db) == [("active_taxonomy", '"agent"', "ann")]
    assert "Now: `agent`" in texts(at)  # the next run already labels with it


def test_admin_page_refuses_non_admin(db, db_path, monkeypatch):
    add_batch(db, "b1", [make_record(0)])
    set_setting(db, "admins", ["ann"], "ann")
    at = app("pages/admin.py", db_path, "zoe", monkeypatch).run()
    assert [e.value for e in at.error] == [
        "The Admin page is for admins. You are 'zoe' (reviewer). Ask an admin (ann) to add your "
        "name to `admins` (Admin page, or `triage config set admins '[\"ann\", \"zoe\"]'`)."]
    assert len(at.button) == 0


def test_oidc_in_secrets_replaces_the_typed_name_with_a_login(db, db_path, monkeypatch):
    at = app("pages/settings.py", db_path, "typed-name", monkeypatch)
    at.secrets["auth"] = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback",
                          "cookie_secret": "s3cret", "client_id": "triage",
                          "client_secret": "x", "server_metadata_url":
                          "http://127.0.0.1:9/.well-known/openid-configuration"}
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Log in to Triage"]
    assert [b.label for b in at.button] == ["Log in"]
    assert "Settings" not in texts(at)
