"""Report page: the verdict first, then the evidence; exports for leadership."""

from core.ui import bootstrap, cached_report, show_error, show_table, show_tables

ctx = bootstrap("Report")

import streamlit as st  # noqa: E402

heading = st.empty()  # drawn at once, before the report's imports; the verdict replaces it
heading.title("Report")

import dataclasses  # noqa: E402
import json  # noqa: E402

from core.labels.visibility import viewer_for  # noqa: E402
from core.report import charts, cost_view, tables, text  # noqa: E402
from core.report.build import as_seen_by, report_slices  # noqa: E402
from core.report.pdf import find_browser, html_to_pdf  # noqa: E402
from core.report.render import render_html, render_markdown  # noqa: E402
from core.store.report_data import metadata_fields  # noqa: E402

NO_BAR = {"displayModeBar": False}

random_only = st.sidebar.toggle(
    "Random queue only", key="report_random_only",
    help="Only transcripts whose labels all came from the random queue: the unbiased sample.")
population = st.sidebar.toggle(
    "Population estimate", value=True, key="report_population",
    help="Estimate the whole population from the random human sample and the pre-labels on "
         "every transcript (prediction-powered inference).")
try:
    with st.spinner("Building the report…", show_time=True):
        report = as_seen_by(ctx.db, cached_report(ctx, random_only, population),
                            viewer_for(ctx.db, ctx.user, reviewing=True))
except Exception as e:  # noqa: BLE001 - shown to the user, logged in full
    show_error(e)

box = {"pipeline_first": st.info, "tuning_justified": st.success,
       "behavior_not_ready": st.warning, "inconclusive": st.info}[report.verdict]
heading.title(text.VERDICT_TITLES[report.verdict])
box(report.verdict_sentence)
if (pop := report.population) is not None:
    st.caption(text.basis_line(report))
if report.verdict == "inconclusive":
    st.markdown(f"**{text.more_line(report)}**")
for w in report.warnings:
    st.warning(w)
for col, (label, value) in zip(st.columns(5), [
        ("Transcripts", report.n_transcripts), ("Labeled", report.n_labeled),
        ("Failures", report.n_failures), ("Open disagreements", report.n_open_disagreements),
        ("No failure", text.pct(report.no_failure.share))], strict=True):
    col.metric(label, f"{value:,}" if isinstance(value, int) else value)

if pop is not None:
    st.header("Population estimate")
    st.markdown(text.population_intro(pop))
    if pop.method != "human-only":
        st.plotly_chart(charts.population_figure(report), config=NO_BAR)
    if pop.width_by_n:
        st.plotly_chart(charts.width_figure(report), config=NO_BAR)
    show_tables([tables.population_table(report), tables.population_facts(report)])

st.header("Fix classes")
st.plotly_chart(charts.fix_class_figure(report), config=NO_BAR)
st.header("Categories")
st.plotly_chart(charts.category_figure(report, ctx.taxonomy), config=NO_BAR)
show_table(tables.category_table(report, ctx.taxonomy))

st.header("Readiness for fine-tuning")
st.caption("Decides between tuning justified and not ready yet when behavior failures dominate; "
           f"thresholds from taxonomy {ctx.taxonomy.name}'s [decision] table.")
show_table(tables.readiness_table(report))
st.subheader("Before you tune: red flags")
st.caption("Tuning is never called justified while a red flag is raised or unanswered.")
show_table(cost_view.red_flags_table(report))
if (cost := report.cost) is not None:
    st.header("What tuning would cost")
    st.markdown(cost_view.cost_sentence(cost).replace("$", "\\$"))  # "$" is not maths here
    st.plotly_chart(cost_view.cost_figure(cost), config=NO_BAR)
    show_tables([cost_view.cost_outputs_table(cost), cost_view.cost_inputs_table(cost)])
st.header("Next actions")
show_table(tables.next_actions_table(report), "No failures labeled yet.")

st.header("Slices")
fields = ["source", *(f for f in metadata_fields(ctx.db) if f != "source")]
field = st.selectbox("Slice by source or a metadata field", ["(none)", *fields],
                     key="report_slice")
if field != "(none)":
    rows = report_slices(ctx.db, ctx.taxonomy, field, random_only)
    report = dataclasses.replace(report, slices={field: rows})
    show_table(tables.slice_table(field, rows, ctx.taxonomy), "No labeled transcripts.")
    if any(r.small for r in rows):
        st.caption("Slices with fewer than 20 failures are flagged: their shares are unreliable.")

st.header("Annotator agreement")
a = report.agreement
if a.n_items:
    c1, c2, c3 = st.columns(3)
    c1.metric("Krippendorff's alpha", text.num(a.krippendorff_alpha),
              help=f"nominal; bootstrap 95% CI {text.num(a.ci_low)}–{text.num(a.ci_high)}")
    c2.metric("Double-labeled", a.n_items)
    c3.metric("Raw agreement", text.pct(a.raw_agreement))
    st.caption(f"Bootstrap 95% interval of alpha: {text.num(a.ci_low)}–{text.num(a.ci_high)}")
    show_tables(tables.agreement_tables(report, ctx.taxonomy))
else:
    st.caption("No transcript is double-labeled yet.")

st.header("Pre-labeler quality")
if p := report.prelabeler:
    st.markdown(f"Accuracy **{text.pct(p.get('accuracy'))}**, Cohen's kappa **{text.num(p.get('kappa'))}** "
                f"on {p.get('n')} human-labeled transcripts. High accuracy can hide poor recall on "
                "rare categories: read recall per category.")
    show_tables(tables.prelabeler_tables(p, ctx.taxonomy))
else:
    st.caption("No pre-labels to compare with human labels.")

st.header("Examples from the top categories")
for ex in report.examples:
    with st.expander(f"{ctx.taxonomy.name_of(ex.category)} · {ex.short_id}"):
        st.caption(f"{ex.transcript_id} · {ex.snippet_from}")
        st.text(ex.snippet)  # st.text never interprets markup
        if ex.note:
            st.text(f"Reviewer's note: {ex.note}")
        if ex.metadata:  # only the keys the report_fields setting allows
            st.json(ex.metadata)

st.header("How the sample was drawn")
s = report.sampling
st.markdown(f"Labels from non-random queues: **{text.pct(s.non_random_share, 1)}** · "
            f"view: {'random queue only' if s.random_only else 'all labels'}")
show_tables(tables.sampling_tables(report))
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
