"""The one key map of the labeling pages, and its clash check."""

from __future__ import annotations

import pytest

from core.errors import KeyClash
from core.labels.keys import (
    ACTION_KEYS,
    Binding,
    Event,
    adjudicate_keys,
    annotate_keys,
    key_clashes,
)
from core.taxonomy import TAXONOMY_DIR, load_taxonomy, parse_taxonomy


def test_default_keys_send_the_events_the_page_expects():
    keys = annotate_keys(load_taxonomy("default"))
    assert keys.event("6") == Event("choose", "tone_policy")
    assert keys.event("s") == keys.event("S") == Event("save")
    assert [keys.event(k) for k in "xug"] == [Event("skip"), Event("undo"), Event("toggle_guide")]
    assert keys.event("q") is None
    assert keys.key("save") == "S" and keys.key("choose", "no_failure") == "0"
    assert keys.key("choose", "not_a_category") is None
    assert keys.help() == ("Keys: categories 1 2 3 4 5 6 7 8 0 · S save & next · X skip · "
                           "U undo · G guidelines · Y context present: yes · N context present: "
                           "no · ? context present: unknown · J next messages · K previous "
                           "messages · T first tool error · L last message")
    assert [keys.event(k) for k in "yn?"] == [Event("context", v) for v in ("yes", "no", "unknown")]
    assert [keys.event(k) for k in "jktl"] == [Event("page", v)
                                               for v in ("next", "prev", "error", "end")]


def test_letter_shortcuts_of_a_taxonomy_work_in_either_case():
    agent = load_taxonomy("agent")
    keys = annotate_keys(agent)
    assert keys.key("choose", agent.categories[9].key) == "E"
    assert keys.event("e") == Event("choose", agent.categories[9].key)
    assert adjudicate_keys(agent).key("choose", agent.categories[10].key) == "F"


def test_the_page_actions_clash_with_nothing_of_their_own():
    bindings = [Binding(a.key, Event(a.action), a.what) for a in ACTION_KEYS]
    assert key_clashes(bindings) == []


def test_a_category_shortcut_on_an_action_key_is_refused_by_name(tmp_path):
    text = (TAXONOMY_DIR / "agent.toml").read_text(encoding="utf-8")
    path = tmp_path / "agent.toml"
    path.write_text(text.replace('shortcut = "e"', 'shortcut = "s"'), encoding="utf-8")
    taxonomy = parse_taxonomy(path)  # a valid taxonomy file on its own
    name = taxonomy.categories[9].name
    with pytest.raises(KeyClash) as e:
        annotate_keys(taxonomy)
    assert str(e.value) == (
        f"Annotate cannot set up its keys: S is bound to both category '{name}' and save & "
        "next. Give the category another `shortcut` in its taxonomy file.")
    assert adjudicate_keys(taxonomy).key("choose", taxonomy.categories[9].key) == "S"


def test_two_actions_on_one_key_and_streamlits_keys_are_clashes():
    assert key_clashes([Binding("S", Event("save"), "save & next"),
                        Binding("s", Event("jump_end"), "jump to the end")]) == [
        "S is bound to both save & next and jump to the end"]
    assert key_clashes([Binding("r", Event("toggle_guide"), "guidelines"),
                        Binding("C", Event("undo"), "undo")]) == [
        "R is Streamlit's own key, so it cannot be guidelines",
        "C is Streamlit's own key, so it cannot be undo"]
