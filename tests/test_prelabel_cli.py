"""`triage prelabel` end to end in-process: env and flags, the estimate, exit codes, output."""

from __future__ import annotations

import io

import pytest

from core.cli.main import run
from core.store.categories import register_taxonomy
from core.store.connection import connect
from tests.conftest import add_transcripts, make_record
from tests.prelabel_helpers import add_labels

KEY = "sk-cli-SECRET-987654321"


@pytest.fixture
def env(monkeypatch, tmp_path, db_path, taxonomy):
    for var in ("OPENAI_API_KEY", "TRIAGE_LLM_BASE_URL", "TRIAGE_LLM_MODEL", "TRIAGE_USER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TRIAGE_DB", str(db_path))
    monkeypatch.setenv("TRIAGE_LOG", str(tmp_path / "triage.log"))
    monkeypatch.setenv("TRIAGE_LLM_MAX_RETRIES", "0")
    db = connect(db_path)
    register_taxonomy(db, taxonomy)
    add_transcripts(db, [make_record(i) for i in range(3)])
    db.close()
    return monkeypatch


def all_text(db_path) -> str:
    db = connect(db_path)
    tables = [r[0] for r in db.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
    text = "".join(str(db.con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
    db.close()
    return text


def test_no_key_no_url_runs_offline_with_notice(env, db_path, capsys):
    assert run(["prelabel"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "note: no OPENAI_API_KEY and no TRIAGE_LLM_BASE_URL: using the offline labeler "
        "(set one of them, or pass --base-url, for LLM pre-labels)")
    assert "done: 3 labeled, 0 cached, 0 failed" in out
    db = connect(db_path)
    assert db.con.execute("SELECT DISTINCT labeler FROM prelabels").fetchall() == [("offline",)]


def test_cost_without_terminal_or_yes_exits_2_with_estimate(env, db_path, llm_server, capsys):
    env.setenv("OPENAI_API_KEY", KEY)
    assert run(["prelabel", "--base-url", llm_server.base_url]) == 2
    captured = capsys.readouterr()
    assert "3 transcripts to pre-label, 0 already done" in captured.out
    assert "estimated:" in captured.out and "$0.00" in captured.out
    assert "no terminal to ask: re-run with --yes" in captured.err
    assert llm_server.state.count == 0
    assert connect(db_path).con.execute("SELECT count(*) FROM prelabels").fetchone() == (0,)


def test_terminal_answer_no_sends_nothing(env, llm_server, monkeypatch, capsys):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    env.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setattr("sys.stdin", Tty("n\n"))
    assert run(["prelabel", "--base-url", llm_server.base_url]) == 2
    assert llm_server.state.count == 0


def test_yes_runs_then_rerun_is_cached_and_key_is_nowhere(env, db_path, tmp_path, llm_server, capsys):
    env.setenv("OPENAI_API_KEY", KEY)
    env.setenv("TRIAGE_LLM_BASE_URL", llm_server.base_url)
    assert run(["prelabel", "--yes", "--model", "gpt-4o", "--concurrency", "2"]) == 0
    out = capsys.readouterr()
    assert "done: 3 labeled, 0 cached, 0 failed" in out.out
    assert "cost: $0.0090 · tokens 3,000 in, 150 out" in out.out  # gpt-4o: $2.5 / $10 per Mtok
    assert "3/3" in out.err  # the progress bar
    assert llm_server.state.requests[0]["body"]["model"] == "gpt-4o"
    assert llm_server.state.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"
    assert run(["prelabel", "--yes", "--model", "gpt-4o"]) == 0
    assert "0 transcripts to pre-label, 3 already done" in capsys.readouterr().out
    assert llm_server.state.count == 3
    assert KEY not in all_text(db_path)
    log = (tmp_path / "triage.log").read_text()
    assert "LLM pre-label run: model gpt-4o" in log and KEY not in log


def test_some_failed_exits_1_all_failed_exits_2(env, llm_server, capsys):
    env.setenv("TRIAGE_LLM_BASE_URL", llm_server.base_url)  # a local server: placeholder key
    llm_server.state.script = [("500",)]
    assert run(["prelabel", "--model", "local-model", "--concurrency", "1"]) == 1
    out = capsys.readouterr().out
    assert "no price for model 'local-model'" in out
    assert "done: 2 labeled, 0 cached, 1 failed" in out and "failed ×1: HTTP 500 after 0 retries" in out
    assert llm_server.state.requests[0]["headers"]["authorization"] == "Bearer not-needed-local-server"
    llm_server.state.default = lambda body: ("500",)
    assert run(["prelabel", "--model", "local-model"]) == 2


def test_evaluate_prints_the_table(env, db_path, taxonomy, capsys):
    assert run(["prelabel", "--evaluate"]) == 0
    assert "nothing to evaluate yet" in capsys.readouterr().out
    db = connect(db_path)
    add_labels(db, taxonomy, [("t0", "reasoning"), ("t1", "no_failure"), ("t2", "reasoning")])
    db.close()
    assert run(["prelabel", "--evaluate", "--labeler", "offline"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("offline pre-labels (offline (trained on n=3:")
    assert "n = 3" in out and "3-fold cross-validation over 3 human labels" in out
    assert "confusion (rows: human, columns: pre-label)" in out


def test_bad_flags_exit_2(env, capsys):
    assert run(["prelabel", "--limit", "0"]) == 2
    assert "--limit must be at least 1" in capsys.readouterr().err


def test_spend_cap_ends_early_exit_1(env, llm_server, capsys):
    env.setenv("OPENAI_API_KEY", KEY)
    assert run(["prelabel", "--yes", "--model", "gpt-4o", "--base-url", llm_server.base_url,
                "--concurrency", "1", "--max-cost", "0.0075"]) == 1
    out = capsys.readouterr().out
    assert "spend cap: $0.0075" in out
    assert "ended early: spend cap $0.0075 reached; run again to resume" in out
    assert "done: 1 labeled, 0 cached, 0 failed, 2 not started" in out
    assert llm_server.state.count == 1  # estimate ~$0.005 each, first answer cost $0.003
