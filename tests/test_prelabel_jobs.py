"""PrelabelJob without Streamlit: a run in a background thread through the real openai client
against the local test server (tests/llm_server.py) — start, progress, stop, resume, one job per
database, failures mid-run — and Ctrl-C on the real `triage prelabel` process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from core.config import Settings
from core.errors import RunInProgress
from core.prelabel.jobs import PrelabelJob
from core.prelabel.plan import RunOptions, plan_run
from core.store.categories import register_taxonomy
from core.store.connection import connect
from tests.conftest import ROOT, add_transcripts, make_record
from tests.demo_helpers import TRIAGE, clean_env

KEY = "sk-test-SECRET-0123456789"
BUSY = ("another pre-label run is going on this database; wait for it to finish or stop it, "
        "then start again (finished work is cached)")


@pytest.fixture
def settings(db_path, llm_server) -> Settings:
    return Settings(db_path=db_path, openai_api_key=KEY, llm_base_url=llm_server.base_url,
                    llm_model="gpt-4o-mini", llm_timeout=5.0, llm_max_retries=0)


def start(db, settings, taxonomy, **options) -> PrelabelJob:
    opts = RunOptions(**options)
    return PrelabelJob.start(db, settings, taxonomy, plan_run(db, settings, taxonomy, opts), opts)


def wait_for_requests(server, n: int) -> None:
    """Until the server has received n requests (bounded; no timing is asserted)."""
    deadline = time.monotonic() + 30
    while server.state.count < n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.state.count == n


def wait_for_log(path, text: str) -> None:
    """Until the log file holds `text` (bounded): the other process has acted."""
    deadline = time.monotonic() + 30
    while not (path.exists() and text in path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert text in path.read_text()


def stored(db) -> list[tuple]:
    return db.con.execute("SELECT transcript_id, status FROM prelabels ORDER BY transcript_id").fetchall()


def asked(server) -> list[str]:
    return [re.findall(r"\(#(\d+)\)", r["body"]["messages"][-1]["content"])[-1]
            for r in server.state.requests]


def test_progress_while_running_then_the_summary(db, settings, taxonomy, llm_server):
    add_transcripts(db, [make_record(i) for i in range(5)])
    llm_server.state.hold_after(2)  # the third answer waits
    job = start(db, settings, taxonomy, concurrency=1)
    wait_for_requests(llm_server, 3)
    snap = job.progress()
    assert (snap.finished, snap.stopping, snap.error) == (False, False, None)
    s = snap.summary
    assert (s.labeler, s.model, s.planned, s.cached, s.done, s.n_failed) == ("llm", "gpt-4o-mini", 5, 0, 2, 0)
    assert (s.tokens_in, s.tokens_out, s.stopped) == (2000, 100, None)
    assert s.cost_usd == pytest.approx(2 * (1000 * 0.15 + 50 * 0.6) / 1e6)
    assert not job.finished and PrelabelJob.running(db) is job
    llm_server.state.release.set()
    summary = job.result()
    assert (summary.done, summary.processed, summary.stopped) == (5, 5, None)
    assert job.finished and job.progress().finished and PrelabelJob.running(db) is None
    assert len(stored(db)) == 5


def test_stop_keeps_the_answer_in_flight_and_a_new_job_sends_only_the_rest(db, settings, taxonomy,
                                                                            llm_server):
    add_transcripts(db, [make_record(i) for i in range(6)])
    llm_server.state.hold_after(2)
    job = start(db, settings, taxonomy, concurrency=1)
    wait_for_requests(llm_server, 3)
    job.stop()
    assert job.progress().stopping and not job.finished  # the third answer is still in flight
    llm_server.state.release.set()
    summary = job.result()
    assert (summary.done, summary.planned, summary.stopped) == (3, 6, "stopped")
    assert [r[1] for r in stored(db)] == ["ok"] * 3
    resumed = start(db, settings, taxonomy, concurrency=3).result()
    assert (resumed.planned, resumed.cached, resumed.done, resumed.stopped) == (3, 3, 3, None)
    assert sorted(asked(llm_server), key=int) == [str(i) for i in range(6)]  # each once


def test_one_job_per_database_a_second_start_says_a_run_is_going(db, settings, taxonomy,
                                                                 llm_server, tmp_path):
    add_transcripts(db, [make_record(i) for i in range(3)])
    llm_server.state.hold_after(0)
    first = start(db, settings, taxonomy, concurrency=1)
    wait_for_requests(llm_server, 1)
    with pytest.raises(RunInProgress) as refused:
        start(db, settings, taxonomy)
    assert str(refused.value) == BUSY
    assert llm_server.state.count == 1  # the refused start sent nothing
    other = connect(tmp_path / "other.duckdb")  # another database: its own job, at once
    register_taxonomy(other, taxonomy)
    add_transcripts(other, [make_record(9)])
    assert start(other, settings, taxonomy, offline=True).result().done == 1
    llm_server.state.release.set()
    assert first.result().done == 3
    again = start(db, settings, taxonomy)  # free again once the first has ended
    assert again.result().planned == 0 and llm_server.state.count == 3


def test_a_plan_made_before_another_run_sends_nothing_twice(db, settings, taxonomy, llm_server):
    add_transcripts(db, [make_record(i) for i in range(4)])
    opts = RunOptions()
    stale = plan_run(db, settings, taxonomy, opts)  # as a second browser tab planned it
    assert PrelabelJob.start(db, settings, taxonomy, plan_run(db, settings, taxonomy, opts),
                             opts).result().done == 4
    late = PrelabelJob.start(db, settings, taxonomy, stale, opts).result()
    assert (late.planned, late.cached, late.done) == (0, 4, 0)
    assert llm_server.state.count == 4


def test_a_refused_key_mid_run_ends_the_job_keeping_what_was_stored(db, settings, taxonomy,
                                                                    llm_server):
    add_transcripts(db, [make_record(i) for i in range(5)])
    llm_server.state.script = [("ok", "escalation"), ("ok", "reasoning"), ("401",)]
    summary = start(db, settings, taxonomy, concurrency=1).result()
    assert summary.stopped == "HTTP 401: the API key was refused"
    assert (summary.done, summary.n_failed, llm_server.state.count) == (2, 1, 3)
    assert [r[1] for r in stored(db)] == ["ok", "ok", "failed"]


def test_an_error_mid_run_ends_the_job_keeping_what_was_stored(db_path, settings, taxonomy,
                                                               llm_server):
    db = connect(db_path)
    register_taxonomy(db, taxonomy)
    add_transcripts(db, [make_record(i) for i in range(4)])
    llm_server.state.hold_after(2)
    job = start(db, settings, taxonomy, concurrency=1)
    wait_for_requests(llm_server, 3)
    db.close()  # the database goes away under the run: its next save fails
    llm_server.state.release.set()
    assert job.wait(30)
    snap = job.progress()
    assert snap.finished and snap.error is not None
    assert snap.summary.done == 2
    assert snap.summary.stopped == f"unexpected {type(snap.error).__name__} (details in the log)"
    with pytest.raises(type(snap.error)):
        job.result()
    assert PrelabelJob.running(db) is None  # the database is free for the next run
    reopened = connect(db_path)
    assert stored(reopened) == [("t0", "ok"), ("t1", "ok")]
    reopened.close()


def test_a_plan_for_another_model_is_refused_before_anything_is_sent(db, settings, taxonomy,
                                                                     llm_server):
    import dataclasses

    from core.errors import UsageError

    add_transcripts(db, [make_record(1)])
    opts = RunOptions()
    plan = plan_run(db, settings, taxonomy, opts)
    other = dataclasses.replace(settings, llm_model="gpt-4o")
    with pytest.raises(UsageError, match="this plan was made for another model"):
        PrelabelJob.start(db, other, taxonomy, plan, opts)
    assert llm_server.state.count == 0 and PrelabelJob.running(db) is None


def test_offline_job_labels_everything(db, taxonomy):
    add_transcripts(db, [make_record(i) for i in range(5)])
    opts = RunOptions(offline=True)
    job = PrelabelJob.start(db, None, taxonomy, plan_run(db, Settings(), taxonomy, opts), opts)
    summary = job.result()
    assert (summary.labeler, summary.done, summary.cost_usd) == ("offline", 5, 0.0)
    assert {r[1] for r in stored(db)} == {"ok"}


def test_ctrl_c_in_the_cli_stores_what_is_in_flight_and_says_interrupted(db_path, taxonomy,
                                                                       llm_server, tmp_path):
    db = connect(db_path)
    register_taxonomy(db, taxonomy)
    add_transcripts(db, [make_record(i) for i in range(5)])
    db.close()
    llm_server.state.hold_after(2)
    env = {**clean_env(), "TRIAGE_DB": str(db_path), "TRIAGE_LOG": str(tmp_path / "triage.log"),
           "TRIAGE_LLM_BASE_URL": llm_server.base_url, "TRIAGE_LLM_MAX_RETRIES": "0"}
    proc = subprocess.Popen([*TRIAGE, "prelabel", "--model", "local-model", "--concurrency", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_for_requests(llm_server, 3)
        os.kill(proc.pid, signal.SIGINT)
        wait_for_log(tmp_path / "triage.log", "stop asked (interrupted)")
        llm_server.state.release.set()  # the third answer arrives after the Ctrl-C
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1  # some labeled, the run ended early
    assert "done: 3 labeled, 0 cached, 0 failed, 2 not started" in out
    assert "ended early: interrupted; run again to resume (finished work is cached)" in out
    assert "3/5" in err  # the progress bar saw the answer that was in flight
    db = connect(db_path)
    assert [r[1] for r in stored(db)] == ["ok"] * 3 and llm_server.state.count == 3
