"""Token counting without network (no tokenizer download) and cutting text to a budget."""

from __future__ import annotations

import re

# Words, digit runs and single punctuation marks. BPE vocabularies (cl100k, o200k) hold common
# words whole and split rare long ones into pieces of a few characters, and split numbers into
# groups of up to three digits. An estimate that errs slightly high, which is what a budget
# and a cost estimate need.
_PIECE = re.compile(r"[^\W\d_]+|\d+|[^\w\s]|_")


def _piece_tokens(p: str) -> int:
    if p.isdigit():
        return (len(p) + 2) // 3
    return (len(p) + 5) // 6 if p.isalpha() else 1


def count_tokens(text: str) -> int:
    """Approximate number of tokens of `text` for OpenAI-style tokenizers."""
    return sum(_piece_tokens(p) for p in _PIECE.findall(text))


def fit_to_budget(text: str, max_tokens: int) -> tuple[str, bool]:
    """Cut the middle out of `text` so it fits `max_tokens`, keeping the start (60%) and
    the end (40%): where a conversation is set up and where it goes wrong. Returns
    (text, truncated)."""
    total = count_tokens(text)
    if total <= max_tokens:
        return text, False
    keep = int(len(text) * max_tokens / total * 0.95)
    head, tail = int(keep * 0.6), keep - int(keep * 0.6)
    cut = len(text) - head - tail
    marker = f"\n[… {cut} characters cut to fit the token budget …]\n"
    return text[:head] + marker + text[len(text) - tail:], True
