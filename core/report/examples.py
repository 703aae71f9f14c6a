"""The report's examples: for each, the message that shows the failure and the reviewer's note,
cut cleanly, a short id that never overflows a page, and only the metadata `report_fields`
allows (core/labels/fields.py)."""

from __future__ import annotations

from collections.abc import Sequence

from core.labels.conversation import MessageView, message_views
from core.labels.fields import report_metadata
from core.report.model import ExampleItem
from core.store.report_data import Example

SNIPPET_CHARS = 420
NOTE_CHARS = 300
SHORT_ID_CHARS = 26


def clip(text: str, limit: int) -> str:
    """`text` on one paragraph's worth: whitespace folded, cut at a word boundary before
    `limit` characters with an ellipsis (a word longer than that is cut where it must be)."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    head = flat[:cut] if cut > limit // 2 else flat[: limit - 1]
    return head.rstrip(" ,;:.-") + "…"


def short_id(transcript_id: str, limit: int = SHORT_ID_CHARS) -> str:
    """An id short enough for a heading: its start and its end around an ellipsis (the end
    tells trials and task numbers apart). The full id goes in a tooltip and the JSON."""
    if len(transcript_id) <= limit:
        return transcript_id
    tail = max(8, limit // 2)
    return transcript_id[: limit - tail - 1] + "…" + transcript_id[-tail:]


def _spoken(view: MessageView) -> str:
    calls = "; ".join(f"tool call {c.name}({' '.join(c.arguments.split())})"
                      for c in view.tool_calls)
    return " · ".join(p for p in (view.text.strip(), calls) if p)


def snippet_of(example: Example) -> tuple[str, str]:
    """(text, where it comes from): the reviewer's failure turn, else the pre-labeler's
    evidence (of a pre-label that chose the same category), else the last assistant message."""
    views = message_views(example.transcript)
    turn = example.failure_turn
    if turn is not None and 0 <= turn < len(views) and _spoken(views[turn]):
        v = views[turn]
        who = f"{v.role} · {v.name}" if v.name else v.role
        return _spoken(v), f"message #{turn} ({who}), where the reviewer marked the failure"
    if example.evidence and example.evidence.strip():
        return example.evidence, "the pre-labeler's evidence (its label agrees)"
    for v in reversed(views):
        if v.role == "assistant" and _spoken(v):
            return _spoken(v), f"the last assistant message (#{v.index}); no failure turn marked"
    return "", "no message to quote"


def example_items(examples: Sequence[Example], allowed_fields: Sequence[str]) -> tuple[ExampleItem, ...]:
    """The report's examples from the store's, with `allowed_fields` of their metadata."""
    out = []
    for ex in examples:
        text, source = snippet_of(ex)
        tid = ex.transcript.transcript_id
        out.append(ExampleItem(
            tid, short_id(tid), ex.category, clip(text, SNIPPET_CHARS), source,
            clip(ex.note, NOTE_CHARS) if ex.note and ex.note.strip() else None,
            report_metadata(ex.transcript.metadata, allowed_fields)))
    return tuple(out)
