"""Pre-labels through the Batch API: the real openai client against the local server's /v1/files
and /v1/batches (tests/batch_api.py). Stored as synchronous pre-labels, failed lines retried,
split under the limits, batch prices before sending, and a process killed between upload and
create, or between create and download, recovered with no duplicate batch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from core.cli.main import run
from core.prelabel.batch import Limits, batch_plan, submit_batches
from core.prelabel.plan import RunOptions, plan_run
from core.prelabel.run import StopRequest
from core.store.connection import connect
from core.store.prelabel_batches import batch_parts, batch_runs
from core.store.settings import set_setting
from tests.conftest import ROOT, add_transcripts, make_record
from tests.llm_server import answer_json

KEY = "sk-batch-SECRET-24680"
OUT_OF_TAXONOMY = json.dumps({"primary_label": "other", "secondary_labels": [], "confidence": 0.4,
                              "rationale": "unsure", "evidence": ""})


@pytest.fixture
def env(monkeypatch, tmp_path, db, db_path, llm_server):
    for var in ("OPENAI_API_KEY", "TRIAGE_LLM_BASE_URL", "TRIAGE_LLM_MODEL", "TRIAGE_USER"):
        monkeypatch.delenv(var, raising=False)
    add_transcripts(db, [make_record(i) for i in range(6)])
    db.close()
    values = {"TRIAGE_DB": str(db_path), "TRIAGE_LOG": str(tmp_path / "triage.log"),
              "TRIAGE_LLM_MAX_RETRIES": "0", "OPENAI_API_KEY": KEY,
              "TRIAGE_LLM_BASE_URL": llm_server.base_url, "TRIAGE_LLM_MODEL": "gpt-4o-mini"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def prelabels(db_path) -> list[tuple]:
    db = connect(db_path)
    rows = db.con.execute("SELECT transcript_id, status, primary_label, model, cost_usd FROM "
                          "prelabels ORDER BY transcript_id, created_at").fetchall()
    db.close()
    return rows


def test_batch_then_status_stores_prelabels_and_retries_failed_lines(env, db_path, llm_server, capsys):
    batch = llm_server.state.batch
    batch.answer = lambda cid, body: (("ok", OUT_OF_TAXONOMY) if cid.endswith(":t1") else
                                      ("error", "server_error", "boom") if cid.endswith(":t2") else
                                      ("ok", answer_json("tone_policy")))
    llm_server.state.default = lambda body: ("ok", "escalation")  # the synchronous retries
    assert run(["prelabel", "--batch", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "note: Batch API prices (half of price_table['gpt-4o-mini']); answers within 24 hours" in out
    assert "6 transcripts to pre-label" in out and "(validating: 0/6 done, 0 failed)" in out
    assert [r["path"] for r in llm_server.state.requests] == []  # nothing synchronous yet
    assert run(["prelabel", "--batch-status"]) == 0
    assert "(in_progress: 3/6 done, 0 failed)" in capsys.readouterr().out
    assert run(["prelabel", "--batch-status"]) == 0
    out, err = capsys.readouterr()
    assert "collected: 4 stored from the batches, 2 retried synchronously, 0 left" in out
    # 4 batch answers at half of gpt-4o-mini (0.075/0.30 per Mtok), t1's batch answer plus its
    # repair at full price (0.15/0.60), t2 resent at full price; 1000 in + 50 out each call
    spent = 4 * 0.00009 + (0.00009 + 0.00018) + 0.00018
    assert ("this check: 6 pre-labels stored, 0 failed · cost $0.0008 · tokens 7,000 in, "
            "350 out") in out
    assert err.split("\r")[-1].strip() == f"[{'#' * 30}] 6/6 failed 0 $0.0008"
    rows = prelabels(db_path)
    assert sum(r[4] for r in rows) == pytest.approx(spent)
    assert [(t, s, lab) for t, s, lab, _, _ in rows] == [
        ("t0", "ok", "tone_policy"), ("t1", "ok", "escalation"), ("t2", "ok", "escalation"),
        ("t3", "ok", "tone_policy"), ("t4", "ok", "tone_policy"), ("t5", "ok", "tone_policy")]
    batch_cost = 1000 * 0.075 / 1e6 + 50 * 0.30 / 1e6  # usage of each line at half gpt-4o-mini
    assert rows[0][4] == pytest.approx(batch_cost)
    sync = llm_server.state.requests
    repair, resend = sync  # t1's answer went back with the reason; t2 was sent again
    assert repair["body"]["messages"][-2] == {"role": "assistant", "content": OUT_OF_TAXONOMY}
    assert "outside the taxonomy: 'other'" in repair["body"]["messages"][-1]["content"]
    line = json.loads(batch.files["file-0001"]["content"].splitlines()[2])
    assert line["custom_id"].endswith(":t2") and resend["body"]["messages"] == line["body"]["messages"]
    assert {r["headers"]["authorization"] for r in sync} == {f"Bearer {KEY}"}
    assert run(["prelabel", "--batch", "--yes"]) == 0  # all cached: no new batch
    assert "0 transcripts to pre-label, 6 already done" in capsys.readouterr().out
    assert batch.creates == 1


def test_the_check_reports_its_cost_after_the_download_and_after_each_retry(env, db_path, llm_server,
                                                                            taxonomy):
    from core.config import load_settings
    from core.prelabel.batch_collect import check_batches

    llm_server.state.batch.polls_in_progress = 0
    llm_server.state.batch.answer = lambda cid, body: (
        ("error", "server_error", "boom") if cid.endswith((":t1", ":t2")) else ("ok", answer_json("tone_policy")))
    llm_server.state.default = lambda body: ("ok", "escalation")  # the two resends
    assert run(["prelabel", "--batch", "--yes"]) == 0
    db, seen = connect(db_path), []
    summary = check_batches(db, load_settings(), taxonomy, StopRequest(),
                            lambda s: seen.append((s.done, round(s.cost_usd, 8), s.tokens_in)))
    db.close()
    # 4 batch answers at $0.00009, then each resend at full price ($0.00018), one at a time
    assert seen == [(5, 0.00054, 5000), (6, 0.00072, 6000), (6, 0.00072, 6000)]
    assert summary.cost_usd == pytest.approx(0.00072)


def test_the_same_lines_as_a_synchronous_run_are_sent(env, db_path, llm_server, taxonomy):
    assert run(["prelabel", "--batch", "--yes"]) == 0
    line = json.loads(llm_server.state.batch.files["file-0001"]["content"].splitlines()[0])
    db = connect(db_path)
    from core.config import load_settings

    plan = plan_run(db, load_settings(), taxonomy, RunOptions())
    db.close()
    assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
    assert line["custom_id"] == f"{plan.prompt_version}:t0"
    assert line["body"]["messages"] == plan.items[0].messages
    assert line["body"]["response_format"]["json_schema"]["strict"] is True
    meta = llm_server.state.batch.batches["batch-0002"]
    assert (meta["completion_window"], meta["endpoint"]) == ("24h", "/v1/chat/completions")
    assert meta["metadata"]["triage_part"] == f"{batch_runs(connect(db_path))[0].run_id}:1"


def test_parts_stay_under_the_request_and_byte_limits(env, db_path, llm_server, taxonomy):
    from core.config import load_settings

    db = connect(db_path)
    settings = load_settings()
    plan = batch_plan(db, plan_run(db, settings, taxonomy, RunOptions()), RunOptions())
    size = max(len(json.dumps(i.messages)) for i in plan.items) + 2000
    submit_batches(db, settings, taxonomy, plan, RunOptions(), StopRequest(),
                   limits=Limits(max_requests=4, max_bytes=2 * size))
    files = [f for f in llm_server.state.batch.files.values() if f["purpose"] == "batch"]
    assert [len(f["content"].splitlines()) for f in files] == [2, 2, 2]
    assert all(f["bytes"] <= 2 * size for f in files)
    parts = batch_parts(db, batch_runs(db)[0].run_id)
    assert [(p.part, p.state, p.n_requests) for p in parts] == [(1, "submitted", 2), (2, "submitted", 2),
                                                                (3, "submitted", 2)]
    db.close()


def test_batch_prices_and_the_spend_cap_apply_before_sending(env, db_path, llm_server, capsys):
    db = connect(db_path)
    set_setting(db, "batch_price_table", {"gpt-4o-mini": {"input_per_mtok": 100.0,
                                                          "output_per_mtok": 0.0}}, "lead")
    db.close()
    assert run(["prelabel", "--batch", "--yes", "--max-cost", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "note: Batch API prices (batch_price_table['gpt-4o-mini'])" in out
    assert "left for a later run" in out
    sent = len(llm_server.state.batch.files["file-0001"]["content"].splitlines())
    assert 0 < sent < 6
    run_ = batch_runs(connect(db_path))[0]
    assert run_.est_cost_usd <= 0.5 and run_.price == {"input_per_mtok": 100.0, "output_per_mtok": 0.0}


def test_an_expired_batch_stores_what_finished_and_the_next_run_sends_the_rest(env, db_path,
                                                                                llm_server, capsys):
    batch = llm_server.state.batch
    batch.expire, batch.polls_in_progress = True, 0
    assert run(["prelabel", "--batch", "--yes"]) == 0
    assert run(["prelabel", "--batch-status"]) == 0
    out = capsys.readouterr().out
    assert "collected: 3 stored from the batches, 0 retried synchronously, 3 left for the next run" in out
    assert llm_server.state.requests == []  # expired lines are not sent synchronously
    batch.expire = False
    assert run(["prelabel", "--batch", "--yes"]) == 0
    assert "3 transcripts to pre-label, 3 already done" in capsys.readouterr().out
    second = batch.files["file-0005"]["content"].splitlines()
    assert [json.loads(x)["custom_id"].split(":")[1] for x in second] == ["t3", "t4", "t5"]
    assert run(["prelabel", "--batch-status"]) == 0
    assert [s for _, s, *_ in prelabels(db_path)] == ["ok"] * 6


def test_runs_of_another_endpoint_are_left_alone(env, db_path, llm_server, monkeypatch, capsys):
    assert run(["prelabel", "--batch", "--yes"]) == 0
    capsys.readouterr()
    assert run(["prelabel", "--batch-status", "--model", "gpt-4o"]) == 0
    out = capsys.readouterr().out
    assert "note: 1 run(s) were sent with another model or base URL" in out
    assert "no Batch API runs recorded for this model and base URL" in out
    assert llm_server.state.batch.batches["batch-0002"]["polls"] == 0


def _cli(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core.cli.main", "prelabel", *args],
                            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _kill_when_held(proc: subprocess.Popen, batch) -> None:
    assert batch.held.wait(60), proc.communicate(timeout=30)[0]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    batch.hold = None
    batch.release.set()  # the held request ends; its client is gone
    batch.held.clear()


@pytest.mark.parametrize("hold,created", [("create", False), ("create-then-hold", True)])
def test_a_kill_between_upload_and_create_is_recovered_without_a_duplicate(env, db_path, llm_server,
                                                                           hold, created):
    batch = llm_server.state.batch
    batch.hold = hold
    _kill_when_held(_cli(env, "--batch", "--yes"), batch)
    assert len(batch.batches) == (1 if created else 0)
    parts = batch_parts(connect(db_path), batch_runs(connect(db_path))[0].run_id)
    assert [p.state for p in parts] == ["uploaded"]  # the upload was recorded, the batch not
    batch.release.clear()
    done = subprocess.run([sys.executable, "-m", "core.cli.main", "prelabel", "--batch", "--yes"],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(batch.batches) == 1  # found by its metadata, or created once
    assert batch.creates == (1 if created else 2)
    assert len([f for f in batch.files.values() if f["purpose"] == "batch"]) == 1  # no re-upload
    db = connect(db_path)
    parts = batch_parts(db, batch_runs(db)[0].run_id)
    assert [(p.state, p.batch_id) for p in parts] == [("submitted", next(iter(batch.batches)))]
    assert len(batch_runs(db)) == 1  # the resumed run, not a new one
    db.close()


def test_a_kill_between_create_and_download_stores_each_answer_once(env, db_path, llm_server):
    batch = llm_server.state.batch
    batch.polls_in_progress = 0
    assert subprocess.run([sys.executable, "-m", "core.cli.main", "prelabel", "--batch", "--yes"],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True).returncode == 0
    batch.hold = "content"
    _kill_when_held(_cli(env, "--batch-status"), batch)
    assert prelabels(db_path) == []
    batch.release.clear()
    done = subprocess.run([sys.executable, "-m", "core.cli.main", "prelabel", "--batch-status"],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "collected: 6 stored from the batches" in done.stdout
    assert [t for t, *_ in prelabels(db_path)] == [f"t{i}" for i in range(6)]  # once each
    assert (batch.creates, len(batch.batches)) == (1, 1)
