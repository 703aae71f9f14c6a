"""Admin: who holds which role, archive and restore import batches, switch the active taxonomy, the admin log."""

from __future__ import annotations

import streamlit as st

from core.admin import (
    MIXED_TAXONOMY_WARNING,
    admins,
    analysts,
    archive_batch,
    change_setting,
    list_batches,
    restore_batch,
    switch_taxonomy,
)
from core.errors import TriageError
from core.store.admin import BatchSummary, admin_log
from core.taxonomy import available_taxonomies
from core.ui import bootstrap

ctx = bootstrap("Admin")


def _run(action, *args) -> None:
    """Run an admin action; its error is shown by name, success after the rerun."""
    try:
        message = action(*args)
    except TriageError as e:
        st.error(str(e))
        return
    st.session_state["admin_done"] = message
    st.rerun()


def _archive(batch_id: str) -> str:
    n = archive_batch(ctx.db, batch_id, ctx.user)
    return f"Archived batch {batch_id}: {n} transcripts left out of queues and the report."


def _restore(batch_id: str) -> str:
    n = restore_batch(ctx.db, batch_id, ctx.user)
    return f"Restored batch {batch_id}: {n} transcripts are active again."


def _batch_row(b: BatchSummary) -> None:
    left, right = st.columns([5, 1], vertical_alignment="center")
    state = "archived" if b.archived else "active"
    when = f" at {b.imported_at:%Y-%m-%d %H:%M}" if b.imported_at else ""
    left.markdown(
        f"**{b.batch_id}** · `{b.file_name or '?'}` ({b.format or '?'}, source `{b.source}`) · "
        f"{b.n_transcripts} transcripts, {b.n_labeled} labeled, {b.n_archived} archived · "
        f"{b.rows_duplicate} duplicates, {b.rows_rejected} rejected · by {b.imported_by}{when}"
        f" · **{state}**")
    if b.archived:
        if right.button("Restore", key=f"restore_{b.batch_id}"):
            _run(_restore, b.batch_id)
    elif right.button("Archive", key=f"archive_{b.batch_id}"):
        st.session_state["admin_confirm_archive"] = b.batch_id
    if st.session_state.get("admin_confirm_archive") == b.batch_id and not b.archived:
        _confirm_archive(b)


def _confirm_archive(b: BatchSummary) -> None:
    """Archiving takes a batch out of queues and the report: asked once more, with what it does."""
    with st.container(border=True):
        st.warning(f"Archive batch {b.batch_id}? Its {b.n_transcripts} transcripts and "
                   f"{b.n_labeled} labeled ones leave the queues, the report and Adjudicate "
                   "(nothing is deleted; Restore brings them back).")
        yes, no = st.columns(2)
        if yes.button("Yes, archive", type="primary", key=f"archive_yes_{b.batch_id}"):
            st.session_state.pop("admin_confirm_archive", None)
            _run(_archive, b.batch_id)
        if no.button("Cancel", key=f"archive_no_{b.batch_id}"):
            st.session_state.pop("admin_confirm_archive", None)
            st.rerun()


def _batches() -> None:
    st.subheader("Import batches")
    st.caption("Archiving keeps a batch's transcripts and labels in the database but leaves "
               "them out of the queues, the report and Adjudicate. Restore undoes it.")
    batches = list_batches(ctx.db)
    if not batches:
        st.caption("No import batches yet.")
    for b in batches:
        _batch_row(b)


def _taxonomy() -> None:
    st.subheader("Active taxonomy")
    st.caption(f"Now: `{ctx.taxonomy.name}` (version {ctx.taxonomy.version}).")
    st.warning(MIXED_TAXONOMY_WARNING)
    names = sorted(available_taxonomies())
    with st.form("switch_taxonomy"):
        choice = st.selectbox("Taxonomy", names, index=names.index(ctx.taxonomy.name)
                              if ctx.taxonomy.name in names else 0)
        if st.form_submit_button("Switch taxonomy"):
            _run(lambda: f"Active taxonomy is now {switch_taxonomy(ctx.db, choice, ctx.user).name}.")


def _log() -> None:
    st.subheader("Admin log")
    rows = [{"when (UTC)": a.done_at, "who": a.done_by, "action": a.action, "target": a.target,
             "detail": str(a.detail)} for a in admin_log(ctx.db)]
    if rows:
        st.dataframe(rows, hide_index=True, key="admin_log")
    else:
        st.caption("No admin actions yet.")


def _roles() -> None:
    """Who holds which role: the `admins` and `analysts` settings (no lock-out rules apply)."""
    st.subheader("Roles")
    st.caption("Reviewers (everyone): Home, Annotate, Browse, Report. Analysts add SQL, exports "
               "and Adjudicate. Admins add Import, Pre-label, Settings, Admin, Discover.")
    with st.form("roles"):
        names = {k: st.text_area(f"{k.capitalize()} (one name per line)",
                                 "\n".join(getter(ctx.db)), height=90, key=f"roles_{k}")
                 for k, getter in (("admins", admins), ("analysts", analysts))}
        if st.form_submit_button("Save roles"):
            lists = {k: [n.strip() for n in v.splitlines() if n.strip()] for k, v in names.items()}
            order = ("admins", "analysts") if lists["admins"] else ("analysts", "admins")
            try:  # admins first, so analysts can be named; analysts first when admins empties
                for key in order:
                    change_setting(ctx.db, key, lists[key], ctx.user)
            except TriageError as e:
                st.error(str(e))
                return
            st.session_state["admin_done"] = "Saved the roles."
            st.rerun()


st.title("Admin")
if done := st.session_state.pop("admin_done", None):
    st.success(done)
if not admins(ctx.db):
    st.info("No admins are set, so everyone is an admin (a fresh install). Name the admins "
            "below, yourself included, to give the other roles meaning.")
_roles()
_batches()
_taxonomy()
_log()
