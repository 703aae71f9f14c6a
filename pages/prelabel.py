"""Pre-label page: start, stop and draw PrelabelJobs (core/prelabel/jobs.py): runs now or through
the Batch API, and batch checks; how well the pre-labels agree with blind reviewer labels."""

from __future__ import annotations

import dataclasses

import streamlit as st

from core.prelabel.batch import plan_batch
from core.prelabel.describe import confusion_frame, describe_plan, evaluation_caption
from core.prelabel.endpoint import app_llm_settings, endpoint_lines
from core.prelabel.evaluate import evaluate_prelabels
from core.prelabel.jobs import PrelabelJob
from core.prelabel.llm import make_client
from core.prelabel.plan import RunOptions, plan_run
from core.report.tables import prelabeler_tables
from core.report.text import num, pct
from core.store.prelabels import labeler_used, prelabel_state
from core.ui import bootstrap, show_error
from pages._prelabel_job_panels import POLL_SECONDS, ended_panel, progress_panel, stop_button

ctx = bootstrap("Pre-label")
st.title("Pre-label")
st.caption("Suggestions shown beside reviewers. They never overwrite or count as human labels.")


def options_form() -> tuple[RunOptions, object]:
    """The run's options from the widgets, and the settings: base URL and model are the
    admin's settings (core/prelabel/endpoint.py), never typed into this form."""
    llm = app_llm_settings(ctx.db, ctx.settings)
    llm_ready = make_client(llm) is not None
    if not llm_ready:
        st.info("There is no OPENAI_API_KEY in the app's environment and no base URL: the offline "
                "labeler runs (no network). Set the `llm_base_url` setting to a local server, or "
                "set OPENAI_API_KEY and restart the app, for LLM pre-labels.")
    for line in endpoint_lines(llm) if llm_ready else []:
        st.caption(line)
    offline = st.radio("Labeler", ["LLM", "Offline"], index=0 if llm_ready else 1,
                       horizontal=True, disabled=not llm_ready) == "Offline"
    batch = st.radio("Send", ["Now", "Batch API: half price, answers within 24 h"], horizontal=True,
                     disabled=offline, key="prelabel_send") != "Now" and not offline
    llm_only = "The offline labeler runs locally: no requests, no cost." if offline else None
    c1, c2, c3, c4 = st.columns(4)
    c1.text_input("Model", llm.llm_model, disabled=True, help="the `llm_model` setting")
    limit = c2.number_input("Limit (0 = all)", min_value=0, value=0, step=10)
    concurrency = c3.number_input("Concurrency", min_value=1, max_value=32, value=4,
                                  disabled=offline, help=llm_only or "LLM requests in flight at once")
    max_cost = c4.number_input("Spend cap, USD (0 = none)", min_value=0.0, value=0.0, step=0.5,
                               disabled=offline, help=llm_only or "The run stops before exceeding it")
    c5, c6 = st.columns(2)
    only_unlabeled = c5.checkbox("Only transcripts without a human label")
    sample = c6.text_input("Sample id (optional)").strip()
    options = RunOptions(offline=offline, limit=int(limit) or None,
                         concurrency=int(concurrency), only_unlabeled=only_unlabeled,
                         sample_id=sample or None, max_cost=float(max_cost) or None)
    return options, dataclasses.replace(llm, user=ctx.user), batch


def cached_plan(options: RunOptions, settings, batch: bool):
    """Planning renders and redacts every transcript: redo it only when something changed."""
    key = (options, batch, settings.llm_model, settings.llm_base_url, prelabel_state(ctx.db))
    if st.session_state.get("prelabel_plan", (None,))[0] != key:
        plan = (plan_batch if batch else plan_run)(ctx.db, settings, ctx.taxonomy, options)
        st.session_state["prelabel_plan"] = (key, plan)
    return st.session_state["prelabel_plan"][1]


def evaluation_labeler() -> str:
    """The one with data (the LLM once it has pre-labeled, else offline) until one is picked."""
    if not st.session_state.get("eval_labeler_picked"):
        st.session_state["eval_labeler"] = "LLM" if labeler_used(ctx.db, "llm") else "Offline"
    return st.radio("Labeler to evaluate", ["LLM", "Offline"], horizontal=True, key="eval_labeler",
                    on_change=lambda: st.session_state.update(eval_labeler_picked=True))


def evaluation_panel() -> None:
    st.subheader("How good are the pre-labels?")
    st.caption("Against final reviewer labels made with the pre-label hidden; few-shot examples "
               "left out; the offline model scored out of fold (cross-validation).")
    which = evaluation_labeler()
    if st.button("Evaluate"):
        st.session_state["prelabel_eval"] = evaluate_prelabels(ctx.db, ctx.taxonomy, which.lower()) or {}
    result = st.session_state.get("prelabel_eval")
    if result == {}:
        st.info("Nothing to evaluate yet: no transcript has both a pre-label and a final "
                "reviewer label made with the pre-label hidden.")
    elif result:
        c1, c2, c3 = st.columns(3)
        c1.metric("n", result["n"])
        c2.metric("Accuracy", pct(result["accuracy"]))
        c3.metric("Cohen's kappa", "n/a" if result["kappa"] is None else num(result["kappa"]))
        st.caption(evaluation_caption(result))
        per_cat, _, buckets = (t.frame() for t in prelabeler_tables(result, ctx.taxonomy))
        st.dataframe(per_cat, hide_index=True)
        st.markdown("Confusion (rows: reviewer, columns: pre-label)")
        st.dataframe(confusion_frame(result, ctx.taxonomy))
        st.markdown("Accuracy by confidence")
        st.dataframe(buckets, hide_index=True)


try:
    options, settings, batch = options_form()
    plan = cached_plan(options, settings, batch)
    for line in describe_plan(plan, options):
        st.markdown(line)
    job = st.session_state["prelabel_job"] = (PrelabelJob.running(ctx.db)  # another tab's too
                                              or st.session_state.get("prelabel_job"))
    running = job is not None and not job.finished
    start_col, stop_col = st.columns(2)
    if start_col.button("Start", type="primary", disabled=not plan.items or running):
        st.session_state["prelabel_job"] = (PrelabelJob.start_batch if batch else PrelabelJob.start)(
            ctx.db, settings, ctx.taxonomy, plan, options)
        st.rerun()  # draw the run as going: Start disabled, progress polled
    if batch and start_col.button("Check batches", disabled=running):
        st.session_state["prelabel_job"] = PrelabelJob.check_batches(ctx.db, settings, ctx.taxonomy)
        st.rerun()
    with stop_col:
        stop_button(job if running else None)
    if running:
        st.fragment(run_every=POLL_SECONDS)(progress_panel)(job)
    elif job is not None:
        ended_panel(job)
    st.divider()
    evaluation_panel()
except Exception as e:  # noqa: BLE001 - shown to the user, logged in full
    show_error(e)
