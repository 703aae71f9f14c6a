"""Real transcripts (../shared/data): the offline labeler's rules and the LLM request's budget,
redaction and metadata leaks on logs written by others."""

from __future__ import annotations

import json
from itertools import islice

from core.config import Settings
from core.prelabel.budget import count_tokens
from core.prelabel.plan import RunOptions, plan_run
from core.prelabel.run import execute_run, prelabel_offline_all
from tests.conftest import add_transcripts


def load(shared_data, name: str, n: int) -> list[dict]:
    with open(shared_data / name, encoding="utf-8") as f:
        return [json.loads(line) for line in islice(f, n)]


def test_offline_cold_start_on_real_transcripts(db, taxonomy, shared_data):
    add_transcripts(db, load(shared_data, "taubench_airline_gpt4o.jsonl", 6), "taubench")
    add_transcripts(db, load(shared_data, "whowhen_multiagent.jsonl", 6), "whowhen")
    assert prelabel_offline_all(db, taxonomy).done == 12
    row = db.con.execute(
        "SELECT primary_label, rationale, evidence FROM prelabels "
        "WHERE transcript_id = 'taubench-airline-gpt-4o-task0-trial0'").fetchone()
    assert row[0] == "reasoning" and row[1].startswith("rule tool_error:")
    assert "Error: payment amount does not add up" in row[2]


def test_llm_requests_on_real_transcripts_fit_budget_and_leak_nothing(db, taxonomy, shared_data,
                                                                     llm_server, db_path):
    records = (load(shared_data, "taubench_airline_gpt4o.jsonl", 3)
               + load(shared_data, "whowhen_multiagent.jsonl", 3))
    add_transcripts(db, records)
    settings = Settings(db_path=db_path, llm_base_url=llm_server.base_url, llm_max_retries=0)
    options = RunOptions(max_transcript_tokens=3000)
    plan = plan_run(db, settings, taxonomy, options)
    assert any(i.truncated for i in plan.items)
    summary = execute_run(db, settings, taxonomy, plan, options)
    assert summary.done == 6
    for req in llm_server.state.requests:
        data = req["body"]["messages"][-1]["content"]
        assert count_tokens(data) <= 3000 * 1.05 + 20
        for leak in ("reward", "expected_actions", "user_instruction", "@example.com"):
            assert leak not in json.dumps(req["body"])
