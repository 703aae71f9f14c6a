"""Token counting without network (no tokenizer download) and cutting text to a budget."""

from __future__ import annotations

import re

# Words, numbers and single punctuation marks; a long word costs about one token per
# four characters, as BPE vocabularies split it. An estimate (it errs high on prose, where
# words are single tokens), which is what a budget and a cost estimate need.
_PIECE = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Approximate number of tokens of `text` for OpenAI-style tokenizers."""
    return sum((len(p) + 3) // 4 for p in _PIECE.findall(text))


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
