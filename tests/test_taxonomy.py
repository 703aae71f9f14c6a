"""Taxonomy files: both bundled ones load, and every kind of mistake gets a clear message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import TaxonomyError
from core.taxonomy import TAXONOMY_DIR, available_taxonomies, load_taxonomy, parse_taxonomy

AGENT = (TAXONOMY_DIR / "agent.toml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "agent") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(TaxonomyError) as e:
        parse_taxonomy(_write(tmp_path, text))
    return str(e.value)


def test_bundled_taxonomies_load():
    assert {"default", "agent"} <= set(available_taxonomies())
    agent = load_taxonomy("agent")
    assert agent.none_key == "no_failure" and len(agent.categories) == 12
    assert {"wrong_tool", "wrong_tool_arguments", "ignored_tool_result", "premature_termination",
            "policy_violation", "unnecessary_escalation", "missing_escalation"} <= set(agent.keys)
    assert {c.fix_class for c in agent.categories} == {"pipeline", "behavior", "model", "none"}
    assert all(c.examples and c.not_this_when and c.typical_fix for c in agent.categories)
    assert agent.version != load_taxonomy("default").version


def test_duplicate_keys(tmp_path):
    text = AGENT.replace('key = "wrong_tool"\n', 'key = "missed_tool_call"\n')
    assert _error(tmp_path, text) == "agent.toml: duplicate category keys: missed_tool_call"


def test_unknown_fix_class(tmp_path):
    text = AGENT.replace('fix_class = "pipeline"', 'fix_class = "retrieval"', 1)
    msg = _error(tmp_path, text)
    assert "category 'missed_tool_call' (#1): fix_class: unknown fix class 'retrieval'; " \
           "use one of pipeline, behavior, model, unknown, none" in msg


def test_not_exactly_one_none(tmp_path):
    none_twice = AGENT.replace('fix_class = "behavior"', 'fix_class = "none"', 1)
    assert 'exactly one category must have fix_class = "none" (found 2)' in _error(tmp_path, none_twice)
    no_none = AGENT.replace('fix_class = "none"', 'fix_class = "model"')
    assert "(found 0)" in _error(tmp_path, no_none)


def test_missing_field(tmp_path):
    text = re.sub(r'typical_fix = "Clearer tool names[^\n]*\n', "", AGENT)
    assert _error(tmp_path, text) == "agent.toml: category 'wrong_tool' (#2): typical_fix: missing (required)"


def test_bad_toml(tmp_path):
    msg = _error(tmp_path, AGENT.replace('name = "Wrong tool"', 'name = "Wrong tool'))
    assert msg.startswith("agent.toml: not valid TOML:") and "line" in msg


def test_reserved_and_reused_shortcuts(tmp_path):
    assert _error(tmp_path, AGENT.replace('shortcut = "e"', 'shortcut = "r"')) == \
        "agent.toml: shortcut keys reused or reserved: r"
    assert _error(tmp_path, AGENT.replace('shortcut = "e"', 'shortcut = "F"')) == \
        "agent.toml: shortcut keys reused or reserved: f"


def test_decision_values_checked(tmp_path):
    assert _error(tmp_path, AGENT.replace("min_alpha = 0.6", "min_alpha = 6")) == \
        "agent.toml: [decision] min_alpha = 6.0 must be between 0 and 1"
    assert "unknown [decision] keys min_kappa" in _error(
        tmp_path, AGENT.replace("min_alpha = 0.6", "min_kappa = 0.6"))


def test_name_must_match_file(tmp_path):
    _write(tmp_path, AGENT, name="teamx")
    with pytest.raises(TaxonomyError, match="name = 'agent' must match the file name 'teamx'"):
        load_taxonomy("teamx", directory=tmp_path)
    with pytest.raises(TaxonomyError, match="no taxonomy named 'nope'; available: teamx"):
        load_taxonomy("nope", directory=tmp_path)


def test_version_is_content_hash(tmp_path):
    path = _write(tmp_path, AGENT)
    first = parse_taxonomy(path).version
    assert parse_taxonomy(path).version == first
    path.write_text(AGENT.replace("Nothing: the transcript is fine.", "Nothing."), encoding="utf-8")
    assert parse_taxonomy(path).version != first


def test_name_of_is_the_category_name_or_else_the_key():
    default = load_taxonomy("default")
    assert default.name_of("tone_policy") == "Tone / policy"
    assert default.name_of("wrong_tool") == "wrong_tool"  # a key of another taxonomy
def test_fix_class_unknown_and_discovery_mode_are_accepted_with_a_warning():
    from core.taxonomy import check_taxonomy

    t = load_taxonomy("discovery")
    assert t.keys == ["other", "no_failure"] and t.discovery_mode and t.unknown_keys == ["other"]
    result = check_taxonomy(t.path)
    assert result.errors == () and result.taxonomy == t
    assert result.warnings[0].startswith("discovery mode: no failure category has a fix class")
    assert "neither pipeline nor behavior" in result.warnings[0]
    assert not load_taxonomy("default").discovery_mode
    assert check_taxonomy(TAXONOMY_DIR / "default.toml").warnings == ()
