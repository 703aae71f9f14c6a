"""Report page: the verdict first, then the evidence; exports for leadership."""

from core.ui import bootstrap, show_error, show_table

ctx = bootstrap("Report")

import dataclasses  # noqa: E402
import json  # noqa: E402

import streamlit as st  # noqa: E402

from core.report import cost_view  # noqa: E402
from core.report.build import build_report, report_slices  # noqa: E402
from core.report.charts import category_figure, fix_class_figure  # noqa: E402
from core.report.pdf import find_browser, html_to_pdf  # noqa: E402
from core.report.render import render_html, render_markdown  # noqa: E402
from core.report.tables import (  # noqa: E402
    agreement_tables,
    category_table,
    next_actions_table,
    prelabeler_tables,
    readiness_table,
    sampling_tables,
    slice_table,
)
from core.report.text import VERDICT_TITLES, num, pct  # noqa: E402
from core.store.report_data import metadata_fields  # noqa: E402

random_only = st.sidebar.toggle(
    "Random queue only", key="report_random_only",
    help="Only transcripts whose labels all came from the random queue: the unbiased sample.")
try:
    report = build_report(ctx.db, ctx.taxonomy, random_only=random_only)
except Exception as e:  # noqa: BLE001 - shown to the user, logged in full
    show_error(e)

box = {"pipeline_first": st.info, "tuning_justified": st.success,
       "behavior_not_ready": st.warning, "inconclusive": st.info}[report.verdict]
st.title(VERDICT_TITLES[report.verdict])
box(report.verdict_sentence)
if report.verdict == "inconclusive":
    shown = "–" if report.more_failures_needed is None else str(report.more_failures_needed)
    st.markdown(f"**More labeled failures needed: {shown}** — {report.more_failures_reason}")
for w in report.warnings:
    st.warning(w)
cols = st.columns(5)
for col, (label, value) in zip(cols, [
        ("Transcripts", report.n_transcripts), ("Labeled", report.n_labeled),
        ("Failures", report.n_failures), ("Open disagreements", report.n_open_disagreements),
        ("No failure", pct(report.no_failure.share))], strict=True):
    col.metric(label, value)

st.header("Fix classes")
st.plotly_chart(fix_class_figure(report), config={"displayModeBar": False})
st.header("Categories")
st.plotly_chart(category_figure(report, ctx.taxonomy), config={"displayModeBar": False})
show_table(category_table(report, ctx.taxonomy))

st.header("Readiness for fine-tuning")
st.caption("Decides between tuning justified and not ready yet when behavior failures dominate; "
           f"thresholds from taxonomy {ctx.taxonomy.name}'s [decision] table.")
show_table(readiness_table(report))
st.subheader("Before you tune: red flags")
st.caption("Tuning is never called justified while a red flag is raised or unanswered.")
show_table(cost_view.red_flags_table(report))
if report.cost is not None:
    st.header("What tuning would cost")
    st.markdown(cost_view.cost_sentence(report.cost).replace("$", "\\$"))  # "$" is not maths here
    st.plotly_chart(cost_view.cost_figure(report.cost), config={"displayModeBar": False})
    show_table(cost_view.cost_outputs_table(report.cost))
    show_table(cost_view.cost_inputs_table(report.cost))

st.header("Next actions")
show_table(next_actions_table(report), "No failures labeled yet.")

st.header("Slices")
fields = ["source", *(f for f in metadata_fields(ctx.db) if f != "source")]
field = st.selectbox("Slice by source or a metadata field", ["(none)", *fields],
                     key="report_slice")
if field != "(none)":
    rows = report_slices(ctx.db, ctx.taxonomy, field, random_only)
    report = dataclasses.replace(report, slices={field: rows})
    show_table(slice_table(field, rows, ctx.taxonomy), "No labeled transcripts.")
    if any(r.small for r in rows):
        st.caption("Slices with fewer than 20 failures are flagged: their shares are unreliable.")

st.header("Annotator agreement")
a = report.agreement
if a.n_items:
    c1, c2, c3 = st.columns(3)
    c1.metric("Krippendorff's alpha", num(a.krippendorff_alpha),
              help=f"nominal; bootstrap 95% CI {num(a.ci_low)}–{num(a.ci_high)}")
    c2.metric("Double-labeled", a.n_items)
    c3.metric("Raw agreement", pct(a.raw_agreement))
    st.caption(f"Bootstrap 95% interval of alpha: {num(a.ci_low)}–{num(a.ci_high)}")
    for t in agreement_tables(report, ctx.taxonomy):
        st.subheader(t.title)
        show_table(t)
else:
    st.caption("No transcript is double-labeled yet.")

st.header("Pre-labeler quality")
if report.prelabeler:
    p = report.prelabeler
    st.markdown(f"Accuracy **{pct(p.get('accuracy'))}**, Cohen's kappa **{num(p.get('kappa'))}** "
                f"on {p.get('n')} human-labeled transcripts. High accuracy can hide poor recall on "
                "rare categories: read recall per category.")
    for t in prelabeler_tables(p, ctx.taxonomy):
        st.subheader(t.title)
        show_table(t)
else:
    st.caption("No pre-labels to compare with human labels.")

st.header("Examples from the top categories")
names = {c.key: c.name for c in ctx.taxonomy.categories}
for ex in report.examples:
    with st.expander(f"{names.get(ex.category, ex.category)} · {ex.transcript_id}"):
        st.text(ex.snippet)  # st.text never interprets markup
        st.json(ex.metadata)

st.header("How the sample was drawn")
s = report.sampling
st.markdown(f"Labels from non-random queues: **{pct(s.non_random_share, 1)}** · "
            f"view: {'random queue only' if s.random_only else 'all labels'}")
for t in sampling_tables(report):
    st.subheader(t.title)
    show_table(t)
st.caption(f"Taxonomy {report.taxonomy.name} version {report.taxonomy.version} · labels from "
           f"{report.date_range['first_label']} to {report.date_range['last_label']} · "
           f"generated {report.generated_at}")

st.header("Export")
c1, c2, c3, c4 = st.columns(4)
c1.download_button("HTML", lambda: render_html(report, ctx.taxonomy), "triage-report.html",
                   "text/html")
c2.download_button("Markdown", lambda: render_markdown(report, ctx.taxonomy), "triage-report.md",
                   "text/markdown")
c3.download_button("JSON", lambda: json.dumps(report.to_dict(), indent=2),
                   "triage-report.json", "application/json")
if find_browser():
    c4.download_button("PDF", lambda: html_to_pdf(render_html(report, ctx.taxonomy)),
                       "triage-report.pdf", "application/pdf")
else:
    c4.caption("PDF needs Chromium on the server (`apt-get install -y chromium`); "
               "export HTML and print it instead.")
