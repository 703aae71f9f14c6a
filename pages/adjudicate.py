"""Adjudicate: settle open disagreements, one key per category, then the next one.

Open to any reviewer (the issue does not restrict it); the adjudicator is recorded on the
annotation, and someone who labeled the transcript cannot adjudicate it."""

from __future__ import annotations

import streamlit as st

from core.errors import TriageError
from core.labels.adjudicate import (
    Disagreement,
    adjudicate,
    disagreements_phrase,
    load_disagreement,
    open_disagreements,
)
from core.labels.conversation import message_views, metadata_rows
from core.labels.fields import reviewer_metadata
from core.labels.keys import adjudicate_keys
from core.store.annotations import Annotation
from core.store.transcripts import Transcript
from core.ui import bootstrap, show_conversation

ctx = bootstrap("Adjudicate")


def _show_transcript(t: Transcript) -> None:
    """The conversation (paged when long) and its retrieved context, as Annotate shows them."""
    show_conversation(t, message_views(t), f"adjudicate_page_{t.transcript_id}")
    if shown := reviewer_metadata(ctx.db, t.metadata):  # outcome-like keys never shown here
        with st.expander("Metadata"):
            st.dataframe(metadata_rows(shown), hide_index=True)


def _label_name(key: str | None) -> str:
    if key is None or key not in ctx.taxonomy.keys:
        return f"`{key}`"
    c = ctx.taxonomy.category(key)
    return f"**{c.name}** (`{key}`, {c.fix_class})"


def _show_label(a: Annotation) -> None:
    st.markdown(f"#### {a.annotator}")
    st.markdown(_label_name(a.primary_label))
    st.markdown(
        f"secondary: {', '.join(a.secondary_labels) or '—'} · context present: "
        f"{a.context_present or '—'} · severity: {a.severity or '—'} · first wrong turn: "
        f"{a.failure_turn if a.failure_turn is not None else '—'}")
    st.text(f"Note: {a.note}" if a.note else "No note.")
    st.caption(f"labeled {a.created_at:%Y-%m-%d %H:%M} UTC")


def _decide(transcript_id: str, key: str) -> None:
    """Button callback: store the decision, clear the note, remember what happened."""
    note = st.session_state.get("adjudication_note", "")
    try:
        adjudicate(ctx.db, transcript_id, ctx.user, key, note, ctx.taxonomy)
    except TriageError as e:
        st.session_state["adjudication_error"] = str(e)
        return
    st.session_state["adjudication_note"] = ""
    st.session_state["adjudication_done"] = (
        f"{transcript_id}: adjudicated as {ctx.taxonomy.name_of(key)}.")


def _skip(transcript_id: str) -> None:
    st.session_state.setdefault("adjudication_skipped", []).append(transcript_id)


def _decision(d: Disagreement) -> None:
    st.subheader("Your decision")
    st.caption("Press a category's key (or click it). The note is optional and stored with "
               "the decision. Keys do nothing while the note field has focus: click outside it.")
    st.text_input("Note (why this label)", key="adjudication_note")
    cats, keys = ctx.taxonomy.categories, adjudicate_keys(ctx.taxonomy)
    for row in range(0, len(cats), 3):
        for col, c in zip(st.columns(3), cats[row:row + 3], strict=False):
            col.button(c.name, key=f"adjudicate_{c.key}",
                       shortcut=keys.key("choose", c.key), on_click=_decide,
                       args=(d.transcript.transcript_id, c.key), width="stretch",
                       help=c.definition)
    st.button("Skip for now", key="adjudicate_skip", on_click=_skip,
              args=(d.transcript.transcript_id,))


def _pick(ids: list[str]) -> str | None:
    skipped = st.session_state.get("adjudication_skipped", [])
    fresh = [i for i in ids if i not in skipped]
    return (fresh or ids or [None])[0]


st.title("Adjudicate")
if done := st.session_state.pop("adjudication_done", None):
    st.success(done)
if error := st.session_state.pop("adjudication_error", None):
    st.error(error)
open_ids = open_disagreements(ctx.db, ctx.user)
n_own = len(open_disagreements(ctx.db)) - len(open_ids)
current = _pick(open_ids)
own_note = (f" {n_own} more involve your own label: another reviewer must settle those."
            if n_own else "")
if current is None:
    st.info("No open disagreements for you to settle." + own_note)
    st.stop()
st.caption(f"{disagreements_phrase(len(open_ids))} · adjudicating as **{ctx.user}** · "
           f"transcript `{current}`." + own_note)
disagreement = load_disagreement(ctx.db, current)
for column, annotation in zip(st.columns(len(disagreement.labels)), disagreement.labels,
                              strict=True):
    with column:
        _show_label(annotation)
_decision(disagreement)
st.subheader("Transcript")
_show_transcript(disagreement.transcript)
