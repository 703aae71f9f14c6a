"""Annotate: one transcript at a time, labeled by keyboard; nothing lost. The page draws the
reviewer's AnnotateSession (core/labels/session.py) and forwards what they do to it."""

from __future__ import annotations

import streamlit as st

from core.ui import bootstrap, esc_leaves_text_fields, show_conversation, show_error

ctx = bootstrap("Annotate")

from core.labels.browse import OPEN_TRANSCRIPT_KEY  # noqa: E402
from core.labels.conversation import facts_table  # noqa: E402
from core.labels.keys import Event  # noqa: E402
from core.labels.queues import KIND_NAMES, QueueSpec  # noqa: E402
from core.labels.session import AnnotateSession, LabelDetails  # noqa: E402
from core.store.annotations import CONTEXT_PRESENT, SEVERITIES  # noqa: E402
from core.store.browse import sources  # noqa: E402
from core.store.queues import list_samples  # noqa: E402
from core.ui import first_reading, key_queue, say, show_guidelines, sticky_panel  # noqa: E402

ss, tax = st.session_state, ctx.taxonomy
FORM_FIELDS = ("sec", "ctx", "sev", "turn", "ideal", "note")  # widget keys f_<field>_<transcript>


def send(action: str, arg: str | None = None) -> None:
    """Button callback: the session applies the event when the page runs."""
    ss["annotate"].push(Event(action, arg))


def queue_spec() -> QueueSpec:
    """The sidebar's queue choice."""
    st.sidebar.subheader("Queue")
    kind = st.sidebar.selectbox("Order", list(KIND_NAMES), format_func=KIND_NAMES.get, key="q_kind")
    samples = {sample_id: n for sample_id, _, n in list_samples(ctx.db)}
    if kind == "random" and samples:
        sample = st.sidebar.selectbox("Sample", list(samples), key="q_sample",
                                      format_func=lambda s: f"{s} ({samples[s]})")
        return QueueSpec("random", sample_id=sample)
    if kind != "filtered":
        return QueueSpec(kind)
    field = st.sidebar.text_input("Metadata field", key="q_field").strip() or None
    value = st.sidebar.text_input("equals", key="q_value") if field else None
    source = st.sidebar.selectbox("Source", [None, *sources(ctx.db)], key="q_source")
    pre = st.sidebar.selectbox("Pre-label", [None, *tax.keys], key="q_pre")
    labeled = st.sidebar.selectbox("Labeled", [None, "unlabeled", "labeled"], key="q_labeled")
    return QueueSpec("filtered", field=field, value=value, source=source, prelabel_label=pre,
                     labeled=labeled)


def form_details(tid: str) -> LabelDetails:
    """The optional fields as the reviewer left them in the form of transcript `tid`."""
    sec, *rest = (ss.get(f"f_{field}_{tid}") for field in FORM_FIELDS)
    return LabelDetails(tuple(sec or ()), *rest)


def sidebar(s: AnnotateSession) -> None:
    if s.recent:
        st.sidebar.subheader("Your last labels")
        st.sidebar.text("\n".join(f"{tid} → {tax.name_of(key)}" for tid, key in s.recent))
    if s.transcript is not None:
        st.sidebar.subheader("Metadata")
        st.sidebar.dataframe(facts_table(s.transcript, s.shown_metadata()), hide_index=True, width="stretch")


def prelabel_panel(s: AnnotateSession) -> None:
    p, box = s.prelabel, st.container(border=True)
    if not s.prelabel_shown:
        box.caption(s.prelabel_hint())
    else:
        box.markdown(f"**Pre-label:** {tax.name_of(p.primary_label)} · confidence "
                     f"{p.confidence or 0:.2f} · `{p.labeler}`")
        box.text(f"Why: {p.rationale or '—'}\nEvidence: “{p.evidence or '—'}”")


def label_form(s: AnnotateSession) -> None:
    # One category per row: two columns cut the names short ("Escalati…") on laptop windows.
    for c in tax.categories:
        hint = s.keys.key("choose", c.key)
        st.button(f"{hint} · {c.name}" if hint else c.name, key=f"cat_{c.key}",
                  type="primary" if s.chosen == c.key else "secondary", width="stretch",
                  help=c.definition, on_click=send, args=("choose", c.key))
    action_buttons(s)
    st.caption(f"{s.keys.help()}. Keys do nothing while a text field has focus: press Esc or "
               "click outside.")
    tid, views = s.item.transcript_id, s.views
    st.multiselect("Secondary labels", tax.keys, key=f"f_sec_{tid}", format_func=tax.name_of)
    a, b = st.columns(2)
    ss[f"f_ctx_{tid}"] = s.details.context_present  # the Y / N / ? keys set it too
    a.radio("Needed info in context? (Y / N / ?)", CONTEXT_PRESENT, index=None,
            key=f"f_ctx_{tid}", horizontal=True)
    b.radio("Severity", SEVERITIES, index=None, key=f"f_sev_{tid}", horizontal=True)
    st.selectbox("First went wrong at", [v.index for v in views], index=None, key=f"f_turn_{tid}",
                 format_func=lambda i: views[i].summary(), placeholder="pick a message (optional)")
    if s.chosen and tax.fix_class(s.chosen) == "behavior":
        st.text_area("Ideal response (optional: what the assistant should have said)",
                     key=f"f_ideal_{tid}", height=90)
    st.text_area("Note", key=f"f_note_{tid}", height=68)


def action_buttons(s: AnnotateSession) -> None:
    def button(where, label: str, action: str, **kw) -> None:
        where.button(f"{label} ({s.keys.key(action)})", key=f"act_{action.removeprefix('toggle_')}",
                     on_click=send, args=(action,), width="stretch", **kw)

    button(st, "Save & next", "save", type="primary")
    skip, undo = st.columns(2)
    button(skip, "Skip", "skip"), button(undo, "Undo last", "undo")
    button(st, "Guidelines", "toggle_guide", type="tertiary")


def main() -> None:
    esc_leaves_text_fields()
    s = ss["annotate"] = AnnotateSession.resume(ss.get("annotate"), ctx.db, ctx.user, tax)
    with first_reading(s.spec is None, "Reading the queue…"):
        s.show_queue(queue_spec())
        links = (ss.pop(OPEN_TRANSCRIPT_KEY, None), st.query_params.pop("transcript", None))
        s.push(*[Event("open", tid) for tid in links if tid][:1])  # Browse's link, shown once
        if s.item is not None:
            s.update_details(s.item.transcript_id, form_details(s.item.transcript_id))
        s.run()
    key_queue(s)  # keys typed, even mid-rerun: applied in order, none twice
    if s.item is None:  # the queue is done (said among the messages)
        return status(s), action_buttons(s), sidebar(s)
    left, right = st.columns([4, 3], gap="medium")
    with left:
        show_guidelines(f"Guidelines · {tax.title}", s.guidelines() if s.show_guidelines else [])
        show_conversation(s.transcript, s.views, f"page_{s.item.transcript_id}", s.shown)
    with right, sticky_panel():  # on screen at any scroll position
        status(s)
        st.caption(s.offscreen_line())
        prelabel_panel(s)
        label_form(s)
    sidebar(s)  # last: its table loads pandas (1.4 s at first), which the first paint need not wait for
    s.read_ahead()  # the next transcript, read in a thread while the reviewer reads this one


def status(s: AnnotateSession) -> None:  # fixed slots: the tree keeps its shape run to run
    st.markdown(s.progress_line())
    with st.container():
        say(*s.take_messages())


try:
    main()
except Exception as e:  # noqa: BLE001 - told in plain words; the traceback goes to the log
    show_error(e, stop=False)
    if getattr(ss.get("annotate"), "pending", None) is not None:
        st.warning("Your unsaved label is kept in this session and is retried on the next action.")
        st.button("Retry now", key="act_retry")
