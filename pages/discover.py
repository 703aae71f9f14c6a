"""Discover (admins): group reviewers' notes into candidate categories, watch saturation,
rename / merge / split / drop them, and save the result as a new taxonomy version."""

from __future__ import annotations

import streamlit as st

from core.discover.axial import apply_rows, drafts_from, merge, split, table_rows
from core.discover.chart import saturation_figure
from core.discover.cluster import ClusterParams
from core.discover.llm import LLMContext, estimate
from core.discover.notes import notes_from_db
from core.discover.run import DiscoverOptions, discover
from core.discover.save import install_and_use, taxonomy_toml
from core.discover.suggest import assignments_from_drafts, suggest_for_other
from core.errors import TriageError
from core.prelabel.endpoint import app_llm_settings
from core.prelabel.llm import make_client
from core.store.samples import list_samples
from core.taxonomy import FIX_CLASSES
from core.ui import bootstrap, show_error

ctx = bootstrap("Discover")
ss = st.session_state
SCOPES = {"all": "All notes", "other": "Only notes on “Other” labels", "sample": "One sample"}

st.title("Discover failure modes")
st.caption("Reviewers' notes grouped into candidate categories (open coding → axial coding). "
           "Offline: TF-IDF and HDBSCAN; with an LLM configured, embeddings and names by the chat model.")


def _run(scope: str, sample: str | None, params: ClusterParams, seed: int, ctx_llm) -> None:
    notes = notes_from_db(ctx.db, scope, sample)
    ss.disc = discover(notes, DiscoverOptions(params, seed), ctx_llm)
    ss.drafts, ss.disc_version = drafts_from(ss.disc), ss.get("disc_version", 0) + 1


with st.form("discover_params"):
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    scope = c1.radio("Notes", list(SCOPES), format_func=SCOPES.get, horizontal=True)
    samples = [s.sample_id for s in list_samples(ctx.db)]
    sample = c1.selectbox("Sample (for “One sample”)", samples or ["(no samples)"])
    min_size = c2.number_input("Smallest cluster (0: auto)", 0, 500, 0)
    max_clusters = c3.number_input("Most clusters", 1, 100, 25)
    seed = c4.number_input("Seed", 0, 10_000, 0)
    client = make_client(llm_settings := app_llm_settings(ctx.db, ctx.settings))
    use_llm = c4.checkbox("Use the LLM", value=False, disabled=client is None,
                          help="embeddings and names from the configured LLM (costs money)")
    accept = c1.checkbox("I accept the estimated cost shown after the first click", value=False)
    go = st.form_submit_button("Group the notes", type="primary")
if go:
    try:
        params = ClusterParams(int(min_size) or None, int(max_clusters))
        llm = LLMContext.build(client, llm_settings, ctx.db) if use_llm and client else None
        if llm is not None:
            texts = [n.text for n in notes_from_db(ctx.db, scope, sample)]
            est = estimate(llm, texts, params.max_clusters)
            st.info("  \n".join(est.lines()))
            if est.est_cost > 0 and not accept:
                st.warning("Tick “I accept the estimated cost” and click again to run.")
                st.stop()
        with st.spinner("Grouping the notes…"):
            _run(scope, sample if scope == "sample" else None, params, int(seed), llm)
    except TriageError as e:
        show_error(e)

d = ss.get("disc")
if d is None:
    st.info("Choose which notes to group and click **Group the notes**.")
    st.stop()
m = d.method
st.subheader(f"{len(d.clusters)} candidate categories from {d.n_notes} notes")
st.caption(f"{len(d.outliers)} outliers ({m['outlier_share']:.0%}) · {m['representation']} · "
           f"min size {m['min_size']} · seed {m['seed']} · names: {m['naming']}")
if d.saturation:
    st.plotly_chart(saturation_figure(d.saturation), config={"displayModeBar": False})
    st.markdown(f"**{d.saturation_sentence}**")

st.subheader("Axial coding")
st.caption("Untick to drop, edit keys and names, choose each fix class; merge and split below. "
           "`unknown` counts as neither pipeline nor behavior in the report.")
edited = st.data_editor(
    table_rows(ss.drafts), key=f"drafts_{ss.disc_version}", hide_index=True, disabled=["notes", "nearest category", "terms"],
    column_config={"fix_class": st.column_config.SelectboxColumn("fix class", options=list(FIX_CLASSES[:-1]))})
try:
    current = apply_rows(ss.drafts, list(edited))
except TriageError as e:
    show_error(e)
keys = [x.key for x in ss.drafts]
c1, c2 = st.columns(2)
with c1.form("merge"):
    picked = st.multiselect("Merge these", keys)
    into = st.selectbox("into", keys)
    if st.form_submit_button("Merge") and picked:
        ss.drafts, ss.disc_version = merge(current, picked, into), ss.disc_version + 1
        st.rerun()
with c2.form("split"):
    which = st.selectbox("Split in two", keys)
    if st.form_submit_button("Split"):
        try:
            ss.drafts, ss.disc_version = split(current, which, d.texts), ss.disc_version + 1
            st.rerun()
        except TriageError as e:
            st.error(str(e))
for x in current:
    with st.expander(f"{x.name} · {len(x.member_ids)} notes · `{x.key}`"):
        for note_id in x.member_ids[:3]:
            st.text(d.texts[note_id])  # st.text: a note is never markup

st.subheader("Save as taxonomy")
name = st.text_input("Taxonomy name", value=f"{ctx.taxonomy.name}_discovered")
try:
    toml = taxonomy_toml(current, d.texts, ctx.taxonomy, name.strip(), n_notes=d.n_notes,
                         method=m["name"])
except TriageError as e:
    show_error(e)
st.download_button("Download the taxonomy file", toml, file_name=f"{name.strip()}.toml",
                   mime="application/toml")
if st.button("Save into taxonomies/ and make it active", type="primary"):
    try:
        new = install_and_use(ctx.db, toml, name.strip(), ctx.user)
        got = suggest_for_other(ctx.db, d, assignments_from_drafts(current, new), new, m["name"])
        st.success(f"Active taxonomy is now {new.name} ({len(new.categories)} categories). "
                   f"{got.suggested} “Other” labels got a suggested category (labeler 'discover').")
    except TriageError as e:
        show_error(e, stop=False)
