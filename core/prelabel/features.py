"""Structural signals of a transcript, shared by the cold-start rules and the trained model."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from core.store.transcripts import Transcript

_ESCALATION = re.compile(
    r"\b(transfer(?:ring)? you|human agent|live agent|escalat\w*|a representative|supervisor)\b",
    re.IGNORECASE)
_ABSTAIN = re.compile(
    r"\b(i (?:do not|don't) (?:know|have (?:that|this|any) information)|i(?:'m| am) not sure|"
    r"no information (?:about|on)|i (?:was|am) unable to find|i (?:could not|couldn't) find)\b", re.IGNORECASE)
_TOOL_ERROR = re.compile(r"\b(error|exception|not found|invalid|failed)\b", re.IGNORECASE)
_WANTS_JSON = re.compile(r"\bjson\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]{3,}")

FEATURE_NAMES = ("tool_never_called", "bad_json", "escalation", "abstain", "tool_error",
                 "low_context_overlap", "has_context", "log_tool_calls", "log_messages")


@dataclass(frozen=True)
class Signals:
    """What the rules and the model look at; each with the quote that shows it."""

    tool_never_called: bool
    bad_json: bool
    escalation: bool
    abstain: bool
    tool_error: bool
    context_overlap: float | None  # share of answer words found in the retrieved context
    n_tool_calls: int
    n_messages: int
    quotes: dict[str, str]

    def vector(self) -> list[float]:
        """Numeric features in FEATURE_NAMES order."""
        low = self.context_overlap is not None and self.context_overlap < 0.2
        return [float(self.tool_never_called), float(self.bad_json), float(self.escalation),
                float(self.abstain), float(self.tool_error), float(low),
                float(self.context_overlap is not None), math.log1p(self.n_tool_calls),
                math.log1p(self.n_messages)]


def _text(m: dict) -> str:
    c = m.get("content")
    return c if isinstance(c, str) else ("" if c is None else json.dumps(c))


def _strip_fence(s: str) -> str:
    s = s.strip()
    if s.startswith("```"):
        s = re.sub(r"^```\w*\s*|\s*```$", "", s)
    return s


def _bad_json(messages: list[dict]) -> str | None:
    """The final assistant answer, when JSON was asked for and the answer does not parse."""
    asked = any(_WANTS_JSON.search(_text(m)) for m in messages if m.get("role") in ("system", "developer", "user"))
    answers = [_text(m) for m in messages if m.get("role") == "assistant" and _text(m).strip()]
    if not asked or not answers:
        return None
    last = _strip_fence(answers[-1])
    if not last.startswith(("{", "[")):
        return None if "json" not in last.lower() else last
    try:
        json.loads(last)
    except json.JSONDecodeError:
        return last
    return None


def _overlap(t: Transcript) -> float | None:
    if not t.context:
        return None
    ctx = set(_WORD.findall(" ".join(str(d.get("text", "")) for d in t.context).lower()))
    answer = " ".join(_text(m) for m in t.messages if m.get("role") == "assistant").lower()
    words = set(_WORD.findall(answer))
    return len(words & ctx) / len(words) if words else 1.0


def _first_match(pattern: re.Pattern, texts: list[str]) -> str | None:
    for s in texts:
        m = pattern.search(s)
        if m:
            return s[max(0, m.start() - 80): m.end() + 80].strip()
    return None


def extract_signals(t: Transcript) -> Signals:
    """Compute the structural signals of one transcript."""
    msgs = t.messages
    n_calls = sum(len(m.get("tool_calls") or []) + bool(m.get("function_call")) for m in msgs)
    assistant = [_text(m) for m in msgs if m.get("role") == "assistant"]
    tool_out = [_text(m) for m in msgs if m.get("role") in ("tool", "function")]
    quotes: dict[str, str] = {}
    never = bool(t.tools) and n_calls == 0
    if never:
        names = [(x.get("function") or x).get("name", "?") for x in t.tools or [] if isinstance(x, dict)]
        quotes["tool_never_called"] = "tools offered: " + ", ".join(names)
    bad = _bad_json(msgs)
    if bad is not None:
        quotes["bad_json"] = bad[:200]
    for key, pattern, texts in (("escalation", _ESCALATION, assistant),
                                ("abstain", _ABSTAIN, assistant), ("tool_error", _TOOL_ERROR, tool_out)):
        q = _first_match(pattern, texts)
        if q:
            quotes[key] = q
    overlap = _overlap(t)
    if overlap is not None and assistant:
        quotes["low_context_overlap"] = assistant[-1][:200]
    return Signals(never, bad is not None, "escalation" in quotes, "abstain" in quotes,
                   "tool_error" in quotes, overlap, n_calls, len(msgs), quotes)
