"""Import: upload a file, preview and map it, import it as one batch; draw a sample."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.errors import ImportFailed, TriageError
from core.ingest import uploads
from core.ingest.pipeline import DEFAULT_SOURCE, import_file, preview_file, refuse_demo_database
from core.ingest.readers import FORMATS, GROUP_BY, MAP_FIELDS, TRACE_FORMATS
from core.labels.fields import metadata_keys
from core.labels.samples import draw_sample, parse_where
from core.store.browse import common_metadata_fields, sources
from core.store.snapshot import refresh_soon
from core.ui import bootstrap, hidden_fields_panel, team_database_offer

ctx = bootstrap("Import")
UNMAPPED = "(not in this file)"
OUTCOMES = {0: "Imported, nothing rejected.", 1: "Imported; some rows were rejected (see below).",
            2: "Nothing imported."}


def _stored_upload(upload) -> Path:
    """The uploaded bytes on disk, written once per upload."""
    key = f"import_upload_{upload.file_id}"
    if key not in st.session_state:
        st.session_state[key] = uploads.store_upload(ctx.settings.db_path, upload.name,
                                                     upload.getvalue())
    return st.session_state[key]


def _mapping(columns: list[str]) -> dict[str, str]:
    """One dropdown per record field: which column holds it (CSV/Parquet)."""
    st.caption("Map the columns: `messages` (JSON), or `user`/`assistant`/`system` text for a "
               "one-exchange conversation. Unmapped columns become metadata.")
    guess = uploads.default_mapping(columns)
    mapping, cols = {}, st.columns(4)
    for i, field in enumerate(MAP_FIELDS):
        options = [UNMAPPED, *columns]
        index = options.index(guess[field]) if field in guess else 0
        choice = cols[i % 4].selectbox(field, options, index=index, key=f"import_map_{field}")
        if choice != UNMAPPED:
            mapping[field] = choice
    return mapping


def _show_preview(path: Path, fmt: str, mapping: dict[str, str], group_by: str) -> None:
    preview = preview_file(path, fmt, mapping, n=20, group_by=group_by)
    st.subheader("Preview")
    st.caption(uploads.preview_caption(preview))
    if preview.records:
        st.dataframe(uploads.preview_rows(preview), hide_index=True, key="import_preview")
    if preview.errors:
        st.warning("Rows with errors (these would be rejected):")
        st.dataframe(uploads.error_rows(preview), hide_index=True)
    if preview.format in TRACE_FORMATS:  # traces: show the first ones as they will render
        for i, record in enumerate(preview.records[:3]):
            with st.expander(uploads.record_title(record), expanded=i == 0):
                st.html(uploads.record_html(record))
    hidden_fields_panel(ctx, metadata_keys(preview.records), "preview")


def _run_import(path: Path, source: str, fmt: str, mapping: dict[str, str], group_by: str) -> None:
    bar = st.progress(0.0, text="Importing…")
    rejects = uploads.rejects_path_for(path)
    try:
        result = import_file(ctx.db, path, source=source.strip() or None, fmt=fmt, mapping=mapping,
                             rejects=rejects, imported_by=ctx.user, group_by=group_by,
                             progress=lambda f, n: bar.progress(min(f, 1.0), text=f"{n:,} rows read"))
    except ImportFailed as e:
        bar.empty()
        st.session_state[f"import_outcome_{path}"] = (2, str(e), str(rejects))
        return
    bar.progress(1.0, text="Done")
    refresh_soon(ctx.db)  # analysts see the import before anyone labels
    st.session_state[f"import_outcome_{path}"] = (
        result.exit_code, "\n".join(result.summary(max_errors=20)), str(result.rejects_path or ""))


def _show_outcome(path: Path) -> None:
    """The result of importing this upload (kept across reruns, per uploaded file)."""
    outcome = st.session_state.get(f"import_outcome_{path}")
    if not outcome:
        return
    code, text, rejects = outcome
    {0: st.success, 1: st.warning, 2: st.error}[code](f"{OUTCOMES[code]} (exit code {code})")
    st.code(text, language=None)
    if rejects and Path(rejects).is_file():
        st.download_button("Download rejected rows (JSONL)", Path(rejects).read_bytes(),
                           file_name=Path(rejects).name, mime="application/jsonl",
                           key="import_rejects")


def _import_section() -> None:
    st.subheader("Import a file")
    st.caption("JSONL, a JSON array, CSV, Parquet or traces (OTLP JSON, Langfuse, LangSmith, OpenAI "
               "Responses), checked as by `triage import`. One file becomes one batch.")
    refuse_demo_database(ctx.db)  # the demo lives apart: the error names the way out
    upload = st.file_uploader("Transcripts or traces file", key="import_file",
                              type=["jsonl", "ndjson", "json", "csv", "parquet", "pq"])
    if upload is None:
        return
    path = _stored_upload(upload)
    left, right = st.columns(2)
    source = left.text_input(
        "Source", value=DEFAULT_SOURCE, key="import_source",
        help="Where these logs come from. Ids are unique per source: the same id with other "
             "content is a conflict within a source, and a different transcript in another one. "
             f"Sources so far: {', '.join(sources(ctx.db)) or 'none yet'}.")
    fmt = right.selectbox("Format", FORMATS, key="import_format")
    preview = preview_file(path, fmt, {}, n=1)
    mapping = _mapping(preview.columns) if preview.columns is not None else {}
    group_by = "trace"
    if preview.format in TRACE_FORMATS:
        group_by = right.radio("One transcript per", GROUP_BY, horizontal=True, key="import_group")
    _show_preview(path, fmt, mapping, group_by)
    if st.button("Import", type="primary", key="import_confirm"):
        _run_import(path, source, fmt, mapping, group_by)
    _show_outcome(path)


def _sample_section() -> None:
    st.subheader("Draw a sample")
    st.caption("Same options as `triage sample`: a seeded random (or stratified) draw of active "
               "transcripts; the Annotate page's random queue follows the latest sample.")
    fields = ["(none)", "source", *common_metadata_fields(ctx.db, 20)]
    with st.form("sample"):
        c = st.columns(3)
        n = c[0].number_input("How many (n)", min_value=1, value=300, step=10)
        seed = c[1].number_input("Seed", min_value=0, value=7, step=1)
        stratify = c[2].selectbox("Stratify by", fields)
        where = st.text_area("Only where (one FIELD=VALUE per line; repeat a field for "
                             "alternatives)", placeholder="channel=web\nchannel=email")
        if st.form_submit_button("Draw sample"):
            sample = draw_sample(ctx.db, int(n), int(seed), None if stratify == "(none)" else stratify,
                                 parse_where([w for w in where.splitlines() if w.strip()]), ctx.user)
            note = f" (asked for {int(n):,}, only {sample.n:,} match)" if sample.n < n else ""
            st.success(f"Sample {sample.sample_id}: {sample.n:,} transcripts, {sample.method} "
                       f"(seed {sample.seed}){note}.")


st.title("Import")
team_database_offer(ctx)
for section in (_import_section, _sample_section):  # one's error never hides the other
    try:
        section()
    except TriageError as e:
        st.error(str(e))
