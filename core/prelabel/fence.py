"""Fencing transcript text inside the prompt: nothing in the data may close or imitate the
prompt's own delimiters, however it is spelled.

Matching runs on a *skeleton* of the text, not on the text: each character is NFKD-normalised
(full-width forms, ligatures, compatibility letters; accents split off), case-folded, mapped from a common
look-alike (Cyrillic, Greek, small capitals, angle brackets and slashes of other scripts) to
the ASCII letter it imitates, and dropped when invisible (zero-width and other format
characters, combining marks). A match in the skeleton is then replaced in the original text,
so the rest of the transcript reaches the model unchanged."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

# Look-alikes NFKC leaves alone, mapped to the ASCII character a reader (or a model) sees.
CONFUSABLES = str.maketrans({
    # Cyrillic
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "ѕ": "s", "і": "i", "т": "t",
    "ј": "j", "у": "y", "х": "x", "ԁ": "d", "ո": "n", "г": "r", "п": "n", "к": "k",
    # Greek
    "α": "a", "ο": "o", "ρ": "p", "ι": "i", "τ": "t", "ν": "v", "κ": "k", "ϲ": "c",
    # Latin small capitals and other letter forms
    "ᴀ": "a", "ᴄ": "c", "ᴇ": "e", "ɪ": "i", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r",
    "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ı": "i", "ʟ": "l", "ɑ": "a", "ɾ": "r",
    # brackets and slashes
    "‹": "<", "\u2329": "<", "\u3008": "<", "⟨": "<", "˂": "<", "ᐸ": "<", "❮": "<", "≺": "<",
    "›": ">", "\u232a": ">", "\u3009": ">", "⟩": ">", "˃": ">", "ᐳ": ">", "❯": ">", "≻": ">",
    "∕": "/", "⁄": "/", "⧸": "/", "╱": "/", "᜵": "/", "\\": "/",
    "［": "[", "⟦": "[", "【": "[", "〔": "[", "］": "]", "⟧": "]", "】": "]", "〕": "]",
})
# '<' written as an entity or an escape, which a model may read as '<'.
_LT = r"(?:<|&lt;?|&#0*60;?|&#x0*3c;?|\\u003c|\\x3c|%3c)"
_SEP = r"[\s_\-.]*"  # 't r a n s c r i p t', 't-r-a-n-s…'


def _spaced(word: str) -> str:
    return _SEP.join(re.escape(ch) for ch in word)


# Any opening or closing transcript tag: '<transcript', '</transcript', '< / TRANSCRIPT >'…
DELIMITER = re.compile(_LT + r"\s*/?\s*" + _spaced("transcript") + r"\s*(?:>|&gt;?)?")
DELIMITER_MARK = "[delimiter removed]"


def _invisible(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat in ("Cf", "Mn", "Me", "Cc") and ch not in "\n\t\r"


# ASCII control characters other than tab and line ends: invisible, so dropped from a skeleton.
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def skeleton(text: str) -> tuple[str, Sequence[int]]:
    """The comparison form of `text` and, per skeleton character, its index in `text`."""
    if text.isascii() and not _ASCII_CONTROL.search(text):
        # NFKD leaves ASCII as it is and none of it is invisible: one skeleton character per
        # character, the text case-folded with its one look-alike ('\\' for '/') mapped.
        return text.lower().translate(CONFUSABLES), range(len(text))
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if _invisible(ch):
            continue
        for s in unicodedata.normalize("NFKD", ch).casefold().translate(CONFUSABLES):
            if not _invisible(s):
                out.append(s)
                where.append(i)
    return "".join(out), where


def neutralise(text: str, pattern: re.Pattern, replace: Callable[[str], str]) -> str:
    """Replace every span of `text` whose skeleton matches `pattern` by `replace(span)`."""
    skel, where = skeleton(text)
    spans = [(where[m.start()], where[m.end() - 1] + 1)
             for m in pattern.finditer(skel) if m.end() > m.start()]
    for start, end in reversed(spans):
        text = text[:start] + replace(text[start:end]) + text[end:]
    return text


def fence(text: str) -> str:
    """The transcript text with every look-alike of the prompt's delimiters removed."""
    # Repeat until nothing matches: removing a tag can join what surrounds it into a new one
    # ('<trans<transcript>cript'). Each pass removes a '<' and adds none, so it ends.
    while DELIMITER.search(skeleton(text)[0]):
        text = neutralise(text, DELIMITER, lambda _: DELIMITER_MARK)
    return text


# A line of message content that imitates the rendering's own structure ('[turn 7] assistant:',
# 'RETRIEVED CONTEXT 2 (kb):', 'TOOLS AVAILABLE:', 'METADATA:').
HEADER = re.compile(r"(?m)^[ \t]*(?:\[\s*turn\s*\d+\s*\]|retrieved\s+context\b|"
                    r"tools\s+available\s*:|metadata\s*:)")
HEADER_MARK = "(quoted)"


def fence_headers(content: str) -> str:
    """Message content with lines that imitate a turn or section header marked as quoted."""
    return neutralise(content, HEADER, lambda span: f"{HEADER_MARK} {span}")
