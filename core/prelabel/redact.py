"""Personal data redaction before a transcript leaves the machine (LLM pre-labeler only)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.errors import UsageError

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_CARD = re.compile(r"(?<![\w.:-])\d(?:[ -]?\d){12,18}(?![\w-]|\.\d)")
_PHONE = re.compile(
    r"(?<![\w.:/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,5}){1,4}(?![\w:/-]|\.\d)"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{2}[./-]\d{2}[./-]\d{4}$")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum that every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN candidate."""
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _card(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group())
    return "[CARD]" if luhn_ok(digits) else m.group()


def _iban(m: re.Match) -> str:
    return "[IBAN]" if iban_ok(m.group()) else m.group()


def _phone(m: re.Match) -> str:
    text = m.group()
    n_digits = sum(c.isdigit() for c in text)
    if not 9 <= n_digits <= 15 or _DATE.match(text):
        return text
    if "." in text:  # 0800.703.3339 yes; decimals (250.08 253.83) and IPs (104.56.238.49) no
        groups = re.split(r"\.", text.lstrip("+"))
        if re.search(r"[ -]", text) or any(len(g) < 3 for g in groups):
            return text
    return "[PHONE]"


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern]:
    """Extra patterns from the `redact_patterns` setting; a bad one is named."""
    compiled = []
    for p in patterns:
        try:
            compiled.append(re.compile(p))
        except re.error as e:
            raise UsageError(f"redact_patterns: {p!r} is not a valid regular expression ({e})") from e
    return compiled


def redact(text: str, extra: Iterable[re.Pattern] = ()) -> str:
    """Replace emails, IBANs, Luhn-valid card numbers, phone numbers and any extra
    pattern with placeholders like [EMAIL]."""
    text = _EMAIL.sub("[EMAIL]", text)
    text = _IBAN.sub(_iban, text)
    text = _CARD.sub(_card, text)
    text = _PHONE.sub(_phone, text)
    for pattern in extra:
        text = pattern.sub("[REDACTED]", text)
    return text
