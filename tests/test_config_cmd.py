"""`triage config`: the same rules as the Settings page, and values checked before storing."""

import pytest

from core.cli.main import run


def config(db_path, user, *args):
    return run(["--db", str(db_path), "--user", user, "config", *args])


@pytest.mark.parametrize("key, value, message", [
    ("price_table", '{"gpt-4o-mini": "cheap"}', "price_table: 'gpt-4o-mini' must map to"),
    ("redact_patterns", '["("]', "'(' is not a regular expression"),
    ("snapshot_interval", "-5", "at least 1 second"),
    ("active_taxonomy", "nosuch", "unknown taxonomy 'nosuch'"),
    ("overlap_share", "1.5", "between 0 and 1"),
    ("admins", '["", "x"]', "every item must be a non-empty string"),
])
def test_bad_values_are_refused_before_they_are_stored(db_path, capsys, key, value, message):
    assert config(db_path, "ann", "set", key, value) == 2
    assert message in capsys.readouterr().err
    assert config(db_path, "ann", "list") == 0
    assert value not in capsys.readouterr().out


def test_only_admins_change_settings_and_nobody_locks_themselves_out(db_path, capsys):
    assert config(db_path, "alice", "set", "admins", '["alice"]') == 0
    assert config(db_path, "bob", "set", "admins", '["bob"]') == 2
    assert "only admins can (alice)" in capsys.readouterr().err
    assert config(db_path, "alice", "set", "admins", '["bob"]') == 2
    assert "lock yourself out" in capsys.readouterr().err
    assert config(db_path, "alice", "set", "overlap_share", "0.3") == 0
    capsys.readouterr()
    assert config(db_path, "bob", "get", "overlap_share") == 0
    assert capsys.readouterr().out == "0.3\n"
