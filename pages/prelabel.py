"""Pre-label page: run the LLM (or offline) labeler with a cost estimate, progress and a stop
button; see how well the pre-labels agree with blind reviewer labels."""

from __future__ import annotations

import dataclasses
import threading

import streamlit as st

from core.prelabel.describe import (
    confusion_frame,
    describe_plan,
    evaluation_caption,
    summary_lines,
)
from core.prelabel.evaluate import evaluate_prelabels
from core.prelabel.plan import RunOptions, plan_run
from core.prelabel.run import RunSummary, execute_run
from core.report.tables import prelabeler_tables
from core.report.text import num, pct
from core.store.prelabels import labeler_used, prelabel_state
from core.ui import bootstrap, show_error

ctx = bootstrap("Pre-label")
st.title("Pre-label")
st.caption("Suggestions shown beside reviewers. They never overwrite or count as human labels.")


def options_form() -> tuple[RunOptions, object]:
    """The run's options from the widgets, and the settings with the chosen model and URL."""
    base_url = st.text_input("LLM base URL (empty: OpenAI)", ctx.settings.llm_base_url or "",
                             help="vLLM, Ollama, LM Studio, Azure: an OpenAI-compatible /v1 URL")
    base_url = base_url.strip() or None
    llm_ready = bool(ctx.settings.openai_api_key or base_url)
    if not llm_ready:
        st.info("There is no OPENAI_API_KEY in the app's environment and no base URL: the offline "
                "labeler runs (no network). Give a local server's base URL, or set "
                "OPENAI_API_KEY and restart the app, for LLM pre-labels.")
    labeler = st.radio("Labeler", ["LLM", "Offline"], index=0 if llm_ready else 1,
                       horizontal=True, disabled=not llm_ready)
    offline = labeler == "Offline"
    llm_only = "The offline labeler runs locally: no requests, no cost." if offline else None
    c1, c2, c3, c4 = st.columns(4)
    model = c1.text_input("Model", ctx.settings.llm_model, disabled=offline)
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
    return options, dataclasses.replace(ctx.settings, llm_base_url=base_url,
                                        llm_model=model.strip() or ctx.settings.llm_model)


def cached_plan(options: RunOptions, settings):
    """Planning renders and redacts every transcript: redo it only when something changed."""
    key = (options, settings.llm_model, settings.llm_base_url, prelabel_state(ctx.db))
    cached = st.session_state.get("prelabel_plan")
    if cached is None or cached[0] != key:
        cached = (key, plan_run(ctx.db, settings, ctx.taxonomy, options))
        st.session_state["prelabel_plan"] = cached
    return cached[1]


def run_in_progress() -> bool:
    """Whether a run started by this session is still going (its page run may be superseded)."""
    finished = st.session_state.get("prelabel_finished")
    return finished is not None and not finished.is_set()


def request_stop() -> None:
    """The stop button's callback: the running loop starts no further request. It runs before
    the page does, while the interrupted run is still going; the page then says it stopped."""
    event = st.session_state.get("prelabel_stop_event")
    if event is not None and run_in_progress():
        event.set()
        st.session_state["prelabel_stopped"] = True


def wait_for_previous_run() -> None:
    """A click during a run starts a new page run while the old one finishes its requests in
    flight; plan only after they are stored, so nothing is sent twice."""
    finished = st.session_state.get("prelabel_finished")
    if finished is not None and not finished.is_set():
        limit = ctx.settings.llm_timeout * (ctx.settings.llm_max_retries + 1) + 5
        with st.spinner("Stopping: storing the answers still in flight…"):
            finished.wait(limit)


def run_with_progress(plan, options, settings) -> RunSummary:
    stop, finished = threading.Event(), threading.Event()
    st.session_state["prelabel_stop_event"] = stop
    st.session_state["prelabel_finished"] = finished
    bar = st.progress(0.0, text=f"0 of {len(plan.items)}")
    live = st.empty()

    def progress(s: RunSummary) -> None:
        bar.progress(min(1.0, s.finished / max(1, s.planned)), text=f"{s.finished} of {s.planned}")
        live.markdown(f"**{s.done}** labeled · **{s.n_failed}** failed · ${s.cost_usd:.4f}")

    try:
        return execute_run(ctx.db, settings, ctx.taxonomy, plan, options, stop, progress)
    finally:
        finished.set()


def evaluation_labeler() -> str:
    """The labeler to evaluate: the one with data (the LLM once it has pre-labeled, else the
    offline model, scored from human labels alone) until the reviewer picks one."""
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
    wait_for_previous_run()
    options, settings = options_form()
    plan = cached_plan(options, settings)
    for line in describe_plan(plan, options):
        st.markdown(line)
    start_col, stop_col = st.columns(2)
    start = start_col.button("Start", type="primary", disabled=not plan.items)
    # Enabled while this page run carries out a run (a click interrupts it, see above), or while
    # an earlier one is still going after waiting for it gave up.
    running = start or run_in_progress()
    stop_col.button("Stop the run", on_click=request_stop, disabled=not running,
                    help=None if running else "Nothing is running.")
    if st.session_state.pop("prelabel_stopped", False):
        st.warning("Stopped. Finished pre-labels are kept; Start resumes where it ended.")
    if start:
        summary = run_with_progress(plan, options, settings)
        st.session_state["prelabel_summary"] = summary_lines(summary)
        st.session_state["prelabel_failed"] = dict(summary.failed)
        st.rerun()  # show the plan as it now is (finished work cached)
    if st.session_state.get("prelabel_summary"):
        st.success("\n\n".join(st.session_state["prelabel_summary"]))
        failed = st.session_state.get("prelabel_failed") or {}
        if failed:
            st.dataframe([{"reason": k, "transcripts": v} for k, v in failed.items()], hide_index=True)
    st.divider()
    evaluation_panel()
except Exception as e:  # noqa: BLE001 - shown to the user, logged in full
    show_error(e)
