"""Annotate: one transcript at a time, labeled by keyboard; nothing lost."""

from __future__ import annotations

import time

import streamlit as st

from core.ui import bootstrap, show_error

ctx = bootstrap("Annotate")

from core.errors import TriageError  # noqa: E402
from core.labels.annotate import (  # noqa: E402
    already_labeled_note,
    label_row,
    prelabel_mode,
    skip_row,
    submit,
)
from core.labels.browse import OPEN_TRANSCRIPT_KEY, seen_label  # noqa: E402
from core.labels.conversation import (  # noqa: E402
    context_html,
    message_views,
    messages_html,
    metadata_rows,
    page_ranges,
)
from core.labels.queues import QueueSpec, claim, load_queue, start_of_today  # noqa: E402
from core.labels.tracker import label_state  # noqa: E402
from core.store.annotations import CONTEXT_PRESENT, SEVERITIES, retract_label  # noqa: E402
from core.store.browse import sources  # noqa: E402
from core.store.prelabels import latest_prelabel  # noqa: E402
from core.store.queues import list_samples  # noqa: E402
from core.store.settings import get_setting  # noqa: E402
from core.store.transcripts import get_transcript  # noqa: E402

ss = st.session_state
tax = ctx.taxonomy
KEYS = {"save": "S", "skip": "X", "undo": "U", "guide": "G"}
ESC_BLURS = """<script>
if (!window.__triageEscBlurs) {
  window.__triageEscBlurs = true;
  document.addEventListener("keydown", (e) => {
    const el = document.activeElement;
    if (e.key === "Escape" && el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA")) el.blur();
  }, true);
}
</script>"""


def queue_spec() -> QueueSpec:
    """The sidebar's queue choice."""
    with st.sidebar:
        st.subheader("Queue")
        kinds = {"random": "Random sample (unbiased)", "low_confidence": "Lowest pre-label "
                 "confidence first", "filtered": "Filtered"}
        kind = st.selectbox("Order", list(kinds), format_func=kinds.get, key="q_kind")
        samples = list_samples(ctx.db)
        if kind == "random" and samples:
            ids = [s[0] for s in samples]
            sample = st.selectbox("Sample", ids, key="q_sample",
                                  format_func=lambda s: f"{s} ({dict((i, n) for i, _, n in samples)[s]})")
            return QueueSpec("random", sample_id=sample)
        if kind != "filtered":
            return QueueSpec(kind)
        field = st.text_input("Metadata field", key="q_field").strip() or None
        value = st.text_input("equals", key="q_value") if field else None
        source = st.selectbox("Source", [None, *sources(ctx.db)], key="q_source")
        pre = st.selectbox("Pre-label", [None, *tax.keys], key="q_pre")
        labeled = st.selectbox("Labeled", [None, "unlabeled", "labeled"], key="q_labeled")
        return QueueSpec("filtered", field=field, value=value, source=source,
                         prelabel_label=pre, labeled=labeled)


def assign_next(spec: QueueSpec, pin: str | None = None) -> None:
    """Read the queue once: the next item (or a pinned one, after undo) and the progress."""
    state = load_queue(ctx.db, ctx.user, spec)
    item = state.item(pin) if pin else None
    if item is None:
        item = state.claim_next(ctx.db)
    else:
        claim(ctx.db, ctx.user, item.transcript_id)
    ss.ann_cur = {"spec": spec, "item": item, "progress": state.progress(),
                  "recent": label_state(ctx.db, ctx.user, start_of_today()).recent, "shown_at": time.monotonic()}
    if item is not None:  # read once per item, not on every rerun
        t = get_transcript(ctx.db, item.transcript_id)
        ss.ann_cur.update(transcript=t, views=message_views(t),
                          prelabel=latest_prelabel(ctx.db, item.transcript_id))
    ss.ann_primary = None
    keep = f"_{item.transcript_id}" if item else None
    for key in [k for k in ss if k.startswith(("f_", "page_")) and not k.endswith(keep or "\0")]:
        del ss[key]  # the previous item's form: nothing of it carries over


def open_requested(spec: QueueSpec) -> None:
    """Browse opens a transcript here (session key, or ?transcript= in a shared link): show
    it as an item of the current queue, once; then the queue goes on as usual."""
    wanted = ss.pop(OPEN_TRANSCRIPT_KEY, None) or st.query_params.get("transcript")
    if not wanted:
        return
    st.query_params.pop("transcript", None)
    assign_next(spec, pin=wanted)
    item = ss.ann_cur["item"]
    if item is None or item.transcript_id != wanted:
        ss.ann_flash = ("warning", f"{wanted} is not in this queue (or not an active transcript): "
                        "pick another queue in the sidebar, e.g. Filtered by source.")
    else:  # shown as long as this item is (the next item replaces ann_cur)
        ss.ann_cur["notice"] = already_labeled_note(seen_label(ctx.db, ctx.user, wanted), tax)


def request(action: str) -> None:
    ss.ann_action = action


def choose(key: str) -> None:
    ss.ann_primary = key


def elapsed_ms() -> int:
    return int((time.monotonic() - ss.ann_cur["shown_at"]) * 1000)


def build_label():
    """The label row from the form's widgets, or None with a hint when no category is chosen."""
    item, tid = ss.ann_cur["item"], ss.ann_cur["item"].transcript_id
    if not ss.get("ann_primary"):
        ss.ann_flash = ("warning", "Choose a category first (its key or button), then save.")
        return None
    ctxp = ss.get(f"f_ctx_{tid}")
    return label_row(
        item, ctx.user, tax, ss.ann_primary, secondary=tuple(ss.get(f"f_sec_{tid}") or ()),
        context_present=ctxp, severity=ss.get(f"f_sev_{tid}"),
        failure_turn=ss.get(f"f_turn_{tid}"), ideal_response=ss.get(f"f_ideal_{tid}"),
        note=ss.get(f"f_note_{tid}"), prelabel_visible=bool(ss.ann_cur.get("prelabel_shown")),
        duration_ms=elapsed_ms())


def flush_pending() -> bool:
    """Save whatever is pending (a new label or one that failed before). True when saved."""
    row = ss.get("ann_pending")
    if row is None:
        return True
    try:
        submit(ctx.db, row, tax.keys, retry=ss.get("ann_tried", False))
    except TriageError as e:
        ss.ann_tried = True  # it may have landed after all: the retry checks before inserting
        ss.ann_flash = ("error", f"Not saved: {e}")
        return False
    ss.ann_pending, ss.ann_tried = None, False
    if row.kind == "label":
        ss.ann_history = [*ss.get("ann_history", []), row.transcript_id]
        ss.ann_flash = ("success", f"Saved: {row.transcript_id} → {tax.category(row.primary_label).name}"
                        + reveal_note(row.transcript_id))
    else:
        ss.ann_flash = ("info", f"Skipped {row.transcript_id}: it comes back at the end.")
    return True


def reveal_note(tid: str) -> str:
    """After a blind save, what the pre-labeler had said."""
    if ss.ann_cur.get("mode") != "blind":
        return ""
    p = ss.ann_cur.get("prelabel")
    if p is None or p.transcript_id != tid or p.primary_label not in tax.keys:
        return ""
    return f" · the pre-label said {tax.category(p.primary_label).name} ({p.confidence or 0:.2f})"


def handle_action(spec: QueueSpec) -> None:
    """Save / skip / undo requested by a button or key in the previous interaction."""
    action = ss.pop("ann_action", None)
    item = ss.ann_cur["item"] if "ann_cur" in ss else None
    if action == "guide":
        ss.ann_guide = not ss.get("ann_guide", False)
    elif action in ("save", "skip") and item is not None and ss.get("ann_pending") is None:
        row = build_label() if action == "save" else skip_row(item, ctx.user, tax, elapsed_ms())
        if row is not None:
            ss.ann_pending = row
    elif action == "undo":
        undo(spec)
        return
    if ss.get("ann_pending") is not None and flush_pending():
        assign_next(spec)


def undo(spec: QueueSpec) -> None:
    """Retract this reviewer's last label made in this session and go back to it."""
    history = ss.get("ann_history", [])
    if not history:
        ss.ann_flash = ("info", "Nothing to undo in this session.")
        return
    tid = history[-1]
    try:
        retract_label(ctx.db, tid, ctx.user)
    except TriageError as e:
        ss.ann_flash = ("error", f"Undo failed: {e}")
        return
    ss.ann_history = history[:-1]
    ss.ann_flash = ("info", f"Undone: your label on {tid} is retracted. Label it again.")
    assign_next(spec, pin=tid)


def show_flash() -> None:
    kind, text = ss.pop("ann_flash", (None, None))
    if kind:
        getattr(st, kind)(text)
    if ss.get("ann_pending") is not None:
        st.warning("A label is waiting to be saved; it is retried on your next action.")
    if notice := ss.ann_cur.get("notice"):
        st.info(notice)


def progress_line(item, progress) -> None:
    pos, total, remaining, today = progress
    where = f"transcript {pos} of {total}" if item else f"all {total} done"
    tags = [f"`{item.transcript_id}`"] if item else []
    if item and item.is_overlap:
        tags.append("double-labeled")
    if item and item.deferred:
        tags.append("skipped before")
    st.markdown(f"**{where}** · {remaining} left · you labeled **{today}** today · "
                f"{' · '.join(tags)}")


def conversation(t, views) -> None:
    n = len(views)
    ranges = page_ranges(n)
    if len(ranges) > 1:
        lo, hi = st.selectbox(
            "Messages", ranges, key=f"page_{t.transcript_id}",
            format_func=lambda r: f"messages {r[0]}–{r[1] - 1} of {n}")
        views = views[lo:hi]
    st.html(messages_html(views))


def transcript_panel(t, views) -> None:
    tabs = st.tabs(["Conversation", f"Context ({len(t.context or [])})"])
    with tabs[0]:
        conversation(t, views)
    with tabs[1]:
        st.html(context_html(t.context))
    with st.sidebar:
        st.subheader("Metadata")
        rows = metadata_rows(t.metadata) + [("source", t.source), ("messages", str(t.n_messages))]
        if t.original_id != t.transcript_id:
            rows.append(("id in the source", t.original_id))
        st.dataframe({"field": [k for k, _ in rows], "value": [v for _, v in rows]},
                     hide_index=True, width="stretch")


def prelabel_panel(p, mode: str) -> None:
    ss.ann_cur["prelabel_shown"] = p is not None and mode == "shown"
    with st.container(border=True):
        if p is None:
            st.caption("No pre-label for this transcript.")
        elif mode == "hidden":
            st.caption("Pre-labels are hidden (setting `prelabel_display`).")
        elif mode == "blind":
            st.caption("Pre-label hidden until you save (blind: avoids anchoring).")
        else:
            name = tax.category(p.primary_label).name if p.primary_label in tax.keys else p.primary_label
            st.markdown(f"**Pre-label:** {name} · confidence {p.confidence or 0:.2f} · `{p.labeler}`")
            st.text(f"Why: {p.rationale or '—'}\nEvidence: “{p.evidence or '—'}”")


def category_buttons() -> None:
    # One per row: two columns cut the names short ("Escalati…") on laptop-sized windows.
    for c in tax.categories:
        chosen = ss.get("ann_primary") == c.key
        st.button(c.name, key=f"cat_{c.key}", shortcut=c.shortcut or None,
                  type="primary" if chosen else "secondary", width="stretch",
                  help=c.definition, on_click=choose, args=(c.key,))


def detail_fields(t, views) -> None:
    tid = t.transcript_id
    st.multiselect("Secondary labels", tax.keys, key=f"f_sec_{tid}",
                   format_func=lambda k: tax.category(k).name)
    a, b = st.columns(2)
    a.radio("Needed info in context?", CONTEXT_PRESENT, index=None, key=f"f_ctx_{tid}",
            horizontal=True)
    b.radio("Severity", SEVERITIES, index=None, key=f"f_sev_{tid}", horizontal=True)
    st.selectbox("First went wrong at", [v.index for v in views], index=None,
                 key=f"f_turn_{tid}", format_func=lambda i: views[i].summary(),
                 placeholder="pick a message (optional)")
    primary = ss.get("ann_primary")
    if primary and tax.fix_class(primary) == "behavior":
        st.text_area("Ideal response (optional: what the assistant should have said)",
                     key=f"f_ideal_{tid}", height=90)
    st.text_area("Note", key=f"f_note_{tid}", height=68)


def action_buttons() -> None:
    st.button("Save & next", key="act_save", shortcut=KEYS["save"], type="primary",
              on_click=request, args=("save",), width="stretch")
    a, b = st.columns(2)
    a.button("Skip", key="act_skip", shortcut=KEYS["skip"], on_click=request, args=("skip",),
             width="stretch")
    b.button("Undo last", key="act_undo", shortcut=KEYS["undo"], on_click=request,
             args=("undo",), width="stretch")
    st.button("Guidelines", key="act_guide", shortcut=KEYS["guide"], on_click=request,
              args=("guide",), width="stretch", type="tertiary")


def guidelines() -> None:
    with st.container(border=True):
        st.markdown(f"#### Guidelines · {tax.title}")
        for c in tax.categories:
            st.markdown(f"**{c.shortcut} · {c.name}** ({c.fix_class})")
            st.caption(c.definition)
            st.caption(f"Not this when: {c.not_this_when}")
            for ex in c.examples:
                st.caption(f"e.g. {ex}")


def recent(mine: list[tuple[str, str]]) -> None:
    if mine:
        with st.sidebar:
            st.subheader("Your last labels")
            for tid, key in mine:
                name = tax.category(key).name if key in tax.keys else key
                st.text(f"{tid} → {name}")


def main() -> None:
    # A constant script (no transcript text in it): Esc leaves a text field, so keys work again.
    # Streamlit alone keeps the focus in the field on Esc (checked in Chromium).
    st.html(ESC_BLURS, unsafe_allow_javascript=True)
    spec = queue_spec()
    if "ann_cur" not in ss or ss.ann_cur["spec"] != spec:
        assign_next(spec)
    open_requested(spec)
    handle_action(spec)
    cur = ss.ann_cur
    item = cur["item"]
    progress_line(item, cur["progress"])
    # Fixed slots: the element tree keeps its shape from run to run, so buttons (and their
    # keyboard shortcuts) are never remounted while a reviewer types ahead.
    with st.container():
        show_flash()
    recent(cur["recent"])
    if item is None:
        st.success("Nothing left in this queue for you. Pick another queue in the sidebar.")
        action_buttons()
        return
    t, views = cur["transcript"], cur["views"]
    cur["mode"] = prelabel_mode(get_setting(ctx.db, "prelabel_display"), item.is_overlap)
    left, right = st.columns([4, 3], gap="medium")
    with left:
        # Above the conversation, not the buttons: open guidelines never push the labels away.
        with st.container():  # always there, so toggling it never remounts what follows
            if ss.get("ann_guide"):
                guidelines()
        transcript_panel(t, views)
    with right:
        prelabel_panel(cur["prelabel"], cur["mode"])
        category_buttons()
        action_buttons()
        st.caption("Keys: category digits · S save & next · X skip · U undo · G guidelines. "
                   "Keys do nothing while a text field has focus: press Esc or click outside.")
        detail_fields(t, views)


try:
    main()
except Exception as e:  # noqa: BLE001 - told in plain words; the traceback goes to the log
    show_error(e, stop=False)
    if ss.get("ann_pending") is not None:
        st.warning("Your unsaved label is kept in this session and is retried on the next action.")
        st.button("Retry now", key="act_retry")
