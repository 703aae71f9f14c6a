"""Every key a labeling page binds, declared in one place and checked for clashes.

A key press becomes an `Event` (what the reviewer asked for); the Annotate session applies
events in order, whether they come from a button, a Streamlit shortcut or keys typed ahead
while the page was busy. A feature that wants a key adds one line to ACTION_KEYS (and its
event to the session); `KeyMap` refuses a map in which two things share a key, a category's
shortcut takes an action's key, or a key is one Streamlit keeps for itself (C, R).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from core.errors import KeyClash
from core.taxonomy import OTHER_KEY, RESERVED_SHORTCUTS, Taxonomy


@dataclass(frozen=True)
class Event:
    """Something the reviewer asked for: `action`, with its argument (a category key for
    'choose', a transcript id for 'open')."""

    action: str
    arg: str | None = None


@dataclass(frozen=True)
class ActionKey:
    """A page action and the key that does it."""

    action: str
    key: str
    what: str  # as the help line and clash messages say it
    arg: str | None = None


# The Annotate page's own keys (the categories bring theirs from the taxonomy).
ACTION_KEYS: tuple[ActionKey, ...] = (
    ActionKey("save", "S", "save & next"),
    ActionKey("skip", "X", "skip"),
    ActionKey("undo", "U", "undo"),
    ActionKey("toggle_guide", "G", "guidelines"),
    # "Needed info in context?" (the annotations' context_present): unset stays unknown.
    ActionKey("context", "Y", "context present: yes", "yes"),
    ActionKey("context", "N", "context present: no", "no"),
    ActionKey("context", "?", "context present: unknown", "unknown"),
    # Reading a long conversation: page through it, jump to the first tool error or the end.
    ActionKey("page", "J", "next messages", "next"),
    ActionKey("page", "K", "previous messages", "prev"),
    ActionKey("page", "T", "first tool error", "error"),
    ActionKey("page", "L", "last message", "end"),
)
# "Other — describe it" (issue 19) gets this key when its taxonomy gives it none.
OTHER_SHORTCUT = "O"


@dataclass(frozen=True)
class Binding:
    """One key and the event it sends. Keys are matched case-insensitively."""

    key: str
    event: Event
    what: str


def key_clashes(bindings: Iterable[Binding]) -> list[str]:
    """What is wrong with these bindings, one sentence per key (empty: nothing)."""
    by_key: dict[str, list[Binding]] = defaultdict(list)
    for b in bindings:
        by_key[b.key.upper()].append(b)
    problems = []
    for key, bound in by_key.items():
        names = " and ".join(b.what for b in bound)
        if key.lower() in RESERVED_SHORTCUTS:
            problems.append(f"{key} is Streamlit's own key, so it cannot be {names}")
        elif len(bound) > 1:
            problems.append(f"{key} is bound to both {names}")
    return problems


class KeyMap:
    """The keys of one page: which key sends which event, and back."""

    def __init__(self, bindings: Iterable[Binding], where: str = "Annotate") -> None:
        self.bindings = tuple(bindings)
        problems = key_clashes(self.bindings)
        if problems:
            raise KeyClash(f"{where} cannot set up its keys: {'; '.join(problems)}. Give the "
                           "category another `shortcut` in its taxonomy file.")
        self._events = {b.key.upper(): b.event for b in self.bindings}
        self._keys = {b.event: b.key.upper() for b in self.bindings}

    def key(self, action: str, arg: str | None = None) -> str | None:
        """The key that sends this event (for Streamlit's `shortcut=`), or None."""
        return self._keys.get(Event(action, arg))

    def event(self, key: str) -> Event | None:
        """The event a pressed key sends (None: the key does nothing here)."""
        return self._events.get(key.upper())

    def help(self) -> str:
        """One line naming every key, for the page's caption."""
        categories = " ".join(b.key for b in self.bindings if b.event.action == "choose")
        actions = [f"{b.key} {b.what}" for b in self.bindings if b.event.action != "choose"]
        return " · ".join([f"Keys: categories {categories}", *actions])


def category_bindings(taxonomy: Taxonomy) -> list[Binding]:
    """A 'choose' event per category that has a shortcut."""
    return [Binding(key.upper(), Event("choose", c.key), f"category '{c.name}'")
            for c in taxonomy.categories
            if (key := c.shortcut or (OTHER_SHORTCUT if c.key == OTHER_KEY else None))]


def annotate_keys(taxonomy: Taxonomy) -> KeyMap:
    """The Annotate page's keys: the taxonomy's category shortcuts, then the actions."""
    actions = [Binding(a.key, Event(a.action, a.arg), a.what) for a in ACTION_KEYS]
    return KeyMap([*category_bindings(taxonomy), *actions])


def adjudicate_keys(taxonomy: Taxonomy) -> KeyMap:
    """The Adjudicate page's keys: one per category, to decide."""
    return KeyMap(category_bindings(taxonomy), where="Adjudicate")
