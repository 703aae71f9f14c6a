"""Checking the pre-labeler's evidence quote against the transcript it read.

A model asked for "a verbatim quote" sometimes paraphrases or invents one. A quote is verified
when, after Unicode NFKC, the removal of invisible format characters and the collapse of
whitespace, it occurs in the text the model was sent; quotation marks around it are ignored and
an ellipsis may stand for an omitted stretch (each piece must then occur, in order). An
unverified quote is kept apart (`evidence_unverified`) and never shown as evidence."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…|\[\.\.\.\]|\[…\])\s*")
_QUOTES = "\"'“”‘’«»„‚`"


def normalise(text: str) -> str:
    """NFKC, without format characters (zero-width and the like), whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _WS.sub(" ", text).strip()


def quote_found(quote: str, text: str) -> bool:
    """Whether `quote` occurs in `text` (normalised; '…' may stand for an omitted part)."""
    hay = normalise(text)
    pieces = [p for p in _ELLIPSIS.split(normalise(quote).strip(_QUOTES + " ")) if p.strip()]
    if not pieces:
        return False
    at = 0
    for piece in pieces:
        found = hay.find(piece.strip(), at)
        if found < 0:
            return False
        at = found + len(piece.strip())
    return True


def checked_evidence(quote: str | None, seen: str | None) -> dict:
    """The pre-label's evidence fields for a model's quote and the text it was sent (None when
    that text is unknown: the quote then cannot be verified)."""
    quote = (quote or "").strip()
    if not quote:
        return {"evidence": "", "evidence_verified": None, "evidence_unverified": None}
    if seen is not None and quote_found(quote, seen):
        return {"evidence": quote, "evidence_verified": True, "evidence_unverified": None}
    return {"evidence": None, "evidence_verified": False, "evidence_unverified": quote}
