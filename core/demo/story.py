"""What a scenario template returns, and the registry of templates by category."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.demo.world import Convo, Customer


@dataclass(frozen=True)
class Story:
    """The truth behind one generated transcript: what went wrong and how a careful reviewer
    would describe it. `confusable` is the label a second reviewer might plausibly pick."""

    label: str
    context: list[dict[str, str]]
    tools: list[str]
    context_present: str
    confusable: str
    severity: str = "medium"
    secondary: tuple[str, ...] = ()
    ideal: str | None = None
    note: str | None = None


Template = Callable[[random.Random, Customer, Convo], Story]
TEMPLATES: dict[str, list[Template]] = {}


def template(label: str, channel: str | None = None,
             intl: bool | None = None) -> Callable[[Template], Template]:
    """Register a scenario template under the category it demonstrates. `channel` pins the
    channel the story needs (an email-only format rule); `intl` pins a non-English customer."""

    def register(fn: Template) -> Template:
        fn.channel, fn.intl = channel, intl  # type: ignore[attr-defined]
        TEMPLATES.setdefault(label, []).append(fn)
        return fn

    return register


def pick(rng: random.Random, *options: Any) -> Any:
    """One of several paraphrases, chosen by the seeded generator."""
    return rng.choice(options)
