"""The Pre-label page's job panels: the stop button, the progress polled while a job runs, and
the last job's summary. Kept apart so the page stays a page."""

from __future__ import annotations

import streamlit as st

from core.prelabel.describe import summary_lines
from core.prelabel.jobs import PrelabelJob

POLL_SECONDS = 0.5  # a running job's progress is redrawn this often (only that part reruns)


@st.fragment  # a click reruns only the button, not the planning above
def stop_button(job: PrelabelJob | None) -> None:
    stopping = job is not None and job.progress().stopping
    st.button("Stop the run", on_click=job and job.stop, disabled=job is None or stopping,
              help="Nothing is running." if job is None else None)


def progress_panel(job: PrelabelJob) -> None:
    """Redrawn every POLL_SECONDS while the job runs; its end reruns the page (plan, summary)."""
    snap = job.progress()
    if snap.finished:
        st.rerun()
    s = snap.summary
    st.progress(min(1.0, s.processed / max(1, s.planned)), text=f"{s.processed} of {s.planned}")
    st.markdown(f"**{s.done}** labeled · **{s.n_failed}** failed · ${s.cost_usd:.4f}")
    if snap.stopping:
        st.caption("Stopping: storing the answers still in flight…")


def ended_panel(job: PrelabelJob) -> None:
    """The last job's summary; the stop it ended with is said once."""
    snap = job.progress()
    if st.session_state.get("prelabel_job_seen_ended") is not job and snap.summary.stopped == "stopped":
        st.warning("Stopped. Finished pre-labels are kept; Start resumes where it ended.")
    st.session_state["prelabel_job_seen_ended"] = job
    (st.error if snap.error else st.success)("\n\n".join(summary_lines(snap.summary)))
    if snap.summary.failed:
        st.dataframe([{"reason": k, "transcripts": v} for k, v in snap.summary.failed.most_common()],
                     hide_index=True)
