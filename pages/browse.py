"""Browse: filter and page through transcripts; select a row to open it in Annotate."""

from __future__ import annotations

import streamlit as st

from core.labels.browse import (
    OPEN_TRANSCRIPT_KEY,
    STATUSES,
    BrowsePage,
    browse,
    browse_query,
    filter_fields,
    sources,
    transcripts_phrase,
    with_label_names,
)
from core.ui import bootstrap

ctx = bootstrap("Browse")
ANY = "(any)"
PAGE_SIZES = (50, 100, 500)


WIDGETS = {"source": "browse_source", "status": "browse_status", "label": "browse_label",
           "prelabel": "browse_prelabel", "meta_field": "browse_meta_field",
           "meta_value": "browse_meta_value", "text": "browse_text",
           "include_archived": "browse_archived"}


def _restore() -> None:
    """Streamlit forgets a page's widgets when another page runs: coming back from Annotate,
    put the last filters and page back."""
    saved = st.session_state.get("browse_last_filters") or {}
    for name, key in WIDGETS.items():
        if key not in st.session_state and name in saved:
            value = saved[name]
            if value is None:
                value = "" if name in ("meta_value", "text") else ANY
            st.session_state[key] = value
    if "browse_page" not in st.session_state and "browse_last_page" in st.session_state:
        st.session_state["browse_page"] = st.session_state["browse_last_page"]


def _pick(column, label: str, options: list[str], key: str, names=str) -> str | None:
    """A selectbox with '(any)' first; `names` gives the text shown for an option."""
    choice = column.selectbox(label, [ANY, *options], key=key, format_func=names)
    return None if choice == ANY else choice


def _filters() -> dict:
    keys, names = ctx.taxonomy.keys, ctx.taxonomy.name_of
    c = st.columns(4)
    f = {"source": _pick(c[0], "Source", sources(ctx.db), "browse_source"),
         "status": _pick(c[1], "Status", list(STATUSES), "browse_status"),
         "label": _pick(c[2], "Final label", keys, "browse_label", names),
         "prelabel": _pick(c[3], "Pre-label", keys, "browse_prelabel", names)}
    c = st.columns([1, 1, 2, 1], vertical_alignment="bottom")
    f["meta_field"] = _pick(c[0], "Metadata field", filter_fields(ctx.db, ctx.user),
                            "browse_meta_field")
    f["meta_value"] = c[1].text_input("equals", key="browse_meta_value",
                                      disabled=f["meta_field"] is None,
                                      placeholder="type a value to filter")
    f["text"] = c[2].text_input("Text in messages", key="browse_text", placeholder="e.g. refund",
                                help="Searches the conversation and its retrieved context, "
                                     "not the system prompt.")
    f["include_archived"] = c[3].toggle("Include archived", key="browse_archived")
    return f


def _page_controls(filters: dict) -> tuple[int, int]:
    """Page number and size; a change of filters goes back to page 1."""
    if st.session_state.get("browse_last_filters") != filters:
        st.session_state["browse_last_filters"] = filters
        st.session_state["browse_page"] = 1
    left, right = st.columns([1, 1])
    size = right.selectbox("Rows per page", PAGE_SIZES, index=1, key="browse_page_size")
    page = left.number_input("Page", min_value=1, step=1, key="browse_page")
    st.session_state["browse_last_page"] = page
    return int(page), int(size)


def _open_in_annotate(transcript_id: str) -> None:
    """The contract with the Annotate page: the id in session state and in the URL. A new
    table key drops the selection, so coming back to Browse does not open it again."""
    st.session_state[OPEN_TRANSCRIPT_KEY] = transcript_id
    st.session_state["browse_table_gen"] = st.session_state.get("browse_table_gen", 0) + 1
    st.switch_page("pages/annotate.py", query_params={"transcript": transcript_id})


def _table(result: BrowsePage) -> None:
    st.caption(f"{transcripts_phrase(result.total)} · page {result.page} of {result.pages} · "
               "select a row to open it in Annotate. Labels of overlap items waiting for their "
               "second reviewer are hidden until you have labeled them.")
    event = st.dataframe(
        with_label_names(result.rows, ctx.taxonomy), hide_index=True, on_select="rerun",
        selection_mode="single-row",
        key=f"browse_table_{st.session_state.get('browse_table_gen', 0)}",
        column_config={"open": st.column_config.LinkColumn(
                           "Annotate", display_text="open", help="Opens the transcript in Annotate "
                           "(a link to share: annotate?transcript=ID)"),
                       "confidence": st.column_config.NumberColumn(format="%.2f"),
                       "imported_at": st.column_config.DatetimeColumn("imported (UTC)")})
    selected = event.selection.rows if event else []
    if selected:
        _open_in_annotate(str(result.rows.iloc[selected[0]]["transcript_id"]))


st.title("Browse")
_restore()
filters = _filters()
page, size = _page_controls(filters)
query = browse_query(ctx.db, ctx.user, **filters)
_table(browse(ctx.db, query, page, size))
