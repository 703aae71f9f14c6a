"""SQL: one read-only query at a time on the analysts' snapshot, the schema beside the editor,
downloads of the result, and the exports."""

from __future__ import annotations

import streamlit as st

from core.analysts.exports import FORMATS, WHATS, export_download
from core.analysts.sandbox import result_csv, result_parquet
from core.analysts.schema_docs import EXAMPLE_QUERIES, RELATIONS
from core.errors import TriageError
from core.labels.visibility import viewer_for
from core.store.connection import format_age
from core.store.sandbox import MAX_ROW_LIMIT, ROW_LIMIT, TIME_LIMIT, run_query
from core.store.settings import get_setting
from core.store.snapshot import install_scheduler, snapshot_age
from core.ui import bootstrap

ctx = bootstrap("SQL")
scheduler = install_scheduler(ctx.db)
EXAMPLES = {q.title: q.sql for q in EXAMPLE_QUERIES}


def _use_example() -> None:
    title = st.session_state.get("sql_example")
    if title in EXAMPLES:
        st.session_state["sql_text"] = EXAMPLES[title]


def _snapshot_line() -> None:
    left, right = st.columns([4, 1])
    age = snapshot_age(ctx.db.path)
    where = f"`{ctx.settings.snapshot_path.name}`"
    left.caption(f"Queries run on the snapshot {where}, "
                 + ("not written yet." if age is None else f"written {format_age(age)} ago.")
                 + (f" Last refresh failed: {scheduler.last_error}" if scheduler.last_error else ""))
    right.button("Refresh snapshot", key="sql_refresh", on_click=_refresh)


def _refresh() -> None:
    try:
        info = scheduler.refresh_now()
        st.toast(f"Snapshot written in {info.seconds:.1f} s")
    except TriageError as e:
        st.session_state["sql_refused"] = str(e)


def _schema_panel() -> None:
    st.subheader("Schema")
    for r in RELATIONS:
        with st.expander(f"{r.name} ({r.kind})"):
            st.caption(f"One row: {r.row}.")
            st.table({"column": list(r.columns), "meaning": list(r.columns.values())})


def _run() -> None:
    """Run callback: before the page renders, so the snapshot line shows the fresh snapshot."""
    st.session_state.pop("sql_result", None)
    st.session_state.pop("sql_refused", None)
    try:
        with st.spinner("Bringing the snapshot up to date with the latest writes…"):
            scheduler.ensure_fresh()  # waits for a refresh under way (the app's start-up one)
        st.session_state["sql_result"] = run_query(
            ctx.settings.snapshot_path, st.session_state.get("sql_text", ""),
            int(st.session_state.get("sql_row_limit", ROW_LIMIT)), TIME_LIMIT,
            int(get_setting(ctx.db, "sql_max_result_bytes")), viewer_for(ctx.db, ctx.user))
    except TriageError as e:
        st.session_state["sql_refused"] = str(e)


def _show_result() -> None:
    if st.session_state.get("sql_refused"):
        st.error(st.session_state["sql_refused"])
    result = st.session_state.get("sql_result")
    if result is None:
        return
    more = f" (first {result.table.num_rows} shown; raise the row limit for more)" \
        if result.truncated else ""
    n = result.table.num_rows
    st.caption(f"{n} row{'' if n == 1 else 's'} in {result.seconds:.2f} s{more}")
    st.dataframe(result.table.to_pandas(), width="stretch", hide_index=True)
    a, b = st.columns(2)
    a.download_button("Download CSV", result_csv(result), "query.csv", "text/csv")
    b.download_button("Download Parquet", result_parquet(result), "query.parquet",
                      "application/vnd.apache.parquet")


def _export_section() -> None:
    st.subheader("Export")
    st.caption("Same files as `triage export`. eval-set is a zip of dev.jsonl and test.jsonl "
               "(stratified by label, half to test, seed 0); tuning-seed is OpenAI "
               "fine-tuning JSONL.")
    a, b, c = st.columns([2, 1, 1])
    what = a.selectbox("What", WHATS, key="export_what")
    fmt = b.selectbox("Format", FORMATS, index=FORMATS.index("jsonl"), key="export_format")
    if c.button("Prepare export", key="export_prepare"):
        try:
            st.session_state["export_file"] = export_download(
                ctx.db, what, fmt, viewer=viewer_for(ctx.db, ctx.user))
        except TriageError as e:
            st.session_state.pop("export_file", None)
            st.error(str(e))
    ready = st.session_state.get("export_file")
    if ready is not None:
        for note in ready.warnings:
            st.warning(note)
        st.download_button(f"Download {ready.file_name} ({ready.rows} rows)", ready.data,
                           ready.file_name, ready.mime, key="export_download")


st.title("SQL")
_snapshot_line()
editor, schema = st.columns([3, 2])
with editor:
    st.selectbox("Saved queries", list(EXAMPLES), index=None, key="sql_example",
                 placeholder="Pick an example query", on_change=_use_example)
    st.text_area("Query (one SELECT; read-only; no file access)", key="sql_text", height=220)
    st.number_input("Row limit", 1, MAX_ROW_LIMIT, ROW_LIMIT, step=100, key="sql_row_limit")
    st.button("Run", type="primary", key="sql_run", on_click=_run)
with schema, st.container(height=440):  # scrolls: the results stay right under the query
    _schema_panel()
_show_result()  # full width: results have many columns
_export_section()
