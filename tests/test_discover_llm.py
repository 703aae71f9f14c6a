"""Discovery with an LLM: the real openai client against the local server (tests/llm_server.py):
embeddings from /v1/embeddings, names by the chat model; requests counted, cached on re-run,
names parsed, malformed answers handled, cost estimated before anything is sent."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.config import Settings
from core.discover.llm import EMBED_BATCH, LLMContext, estimate
from core.discover.notes import notes_from_db
from core.discover.run import DiscoverOptions, discover
from core.errors import DiscoveryFailed
from core.prelabel.llm import make_client
from tests.demo_helpers import TRIAGE, clean_env
from tests.discover_helpers import notes_db

KEY = "sk-test-SECRET-0123456789"
OPTIONS = DiscoverOptions(saturation_steps=0)


def naming(body: dict) -> tuple:
    """A valid naming answer whose name quotes the first example it was shown."""
    first = body["messages"][-1]["content"].split("\n- ")[1].split("\n")[0]
    return ("content", json.dumps({"name": f"About {first[:20]}", "definition": "A failure "
            "the notes share, defined well.", "not_this_when": "Another one fits.",
            "fix_class": "pipeline"}))


@pytest.fixture
def settings(db_path, llm_server) -> Settings:
    return Settings(db_path=db_path, openai_api_key=KEY, llm_base_url=llm_server.base_url,
                    llm_model="gpt-4o-mini", llm_timeout=5.0, llm_max_retries=0)


def _paths(server) -> list[str]:
    return [r["path"] for r in server.state.requests]


def test_embeddings_and_names_are_requested_then_cached(db, taxonomy, settings, llm_server):
    notes_db(db, taxonomy, per_mode=3)
    notes = notes_from_db(db)
    llm_server.state.default = naming
    ctx = LLMContext.build(make_client(settings), settings, db)
    d = discover(notes, OPTIONS, ctx)
    n_texts = len({n.text for n in notes})
    assert _paths(llm_server).count("/v1/embeddings") == -(-n_texts // EMBED_BATCH)
    assert _paths(llm_server).count("/v1/chat/completions") == len(d.clusters) >= 3
    body = next(r["body"] for r in llm_server.state.requests if r["path"] == "/v1/embeddings")
    assert body["model"] == "text-embedding-3-small" and len(body["input"]) == n_texts
    assert all(c.name.startswith("About ") and c.fix_class == "pipeline" and c.named_by ==
               "gpt-4o-mini" and c.naming_error is None for c in d.clusters)
    assert d.method["requests"] == llm_server.state.count and d.method["cost_usd"] > 0
    before = llm_server.state.count
    again = discover(notes, OPTIONS, LLMContext.build(make_client(settings), settings, db))
    assert llm_server.state.count == before  # everything from the cache
    assert [c.name for c in again.clusters] == [c.name for c in d.clusters]
    assert again.method["cached"] == n_texts + len(d.clusters)


def test_malformed_names_keep_top_terms_and_are_not_cached(db, taxonomy, settings, llm_server):
    notes_db(db, taxonomy, per_mode=3)
    llm_server.state.default = lambda body: ("content", '{"name": "x", ')
    ctx = LLMContext.build(make_client(settings), settings, db)
    d = discover(notes_from_db(db), OPTIONS, ctx)
    assert all(c.naming_error.startswith("answer is not JSON") and c.named_by == "top terms"
               for c in d.clusters)
    llm_server.state.default = lambda body: ("content", json.dumps(
        {"name": "Fine name", "definition": "Long enough here.", "not_this_when": "never",
         "fix_class": "retrieval"}))
    again = discover(notes_from_db(db), OPTIONS, LLMContext.build(make_client(settings), settings, db))
    assert all("fix_class 'retrieval'" in c.naming_error for c in again.clusters)
    assert sum(p == "/v1/chat/completions" for p in _paths(llm_server)) == 2 * len(d.clusters)


def test_embedding_failures_stop_with_a_clear_error(db, taxonomy, settings, llm_server):
    notes_db(db, taxonomy, per_mode=2)
    notes = notes_from_db(db)
    for behaviour, message in [(("500",), "HTTP 500"), (("short",), "vectors for"),
                               (("ragged",), "different or zero length")]:
        llm_server.state.embed_script = [behaviour]
        with pytest.raises(DiscoveryFailed, match=message):
            discover(notes, OPTIONS, LLMContext.build(make_client(settings), settings, db))
    assert db.con.execute("SELECT count(*) FROM discover_embeddings").fetchone() == (0,)


def test_estimate_sends_nothing_and_redacts(db, taxonomy, settings, llm_server):
    notes_db(db, taxonomy, per_mode=1)
    ctx = LLMContext.build(make_client(settings), settings, db)
    texts = [n.text for n in notes_from_db(db)] + ["Mail jane@example.com about it."]
    est = estimate(ctx, texts, 25)
    assert llm_server.state.count == 0 and est.texts_to_embed == len(set(texts))
    assert est.est_cost > 0 and "estimated cost at most" in est.lines()[2]
    ctx_embed = LLMContext.build(make_client(settings), settings, db)
    from core.discover.llm import embed

    embed(ctx_embed, texts)
    sent = llm_server.state.requests[0]["body"]["input"]
    assert "Mail [EMAIL] about it." in sent and not any("jane@" in t for t in sent)
    assert KEY not in json.dumps(llm_server.state.requests[0]["body"])


def test_cli_asks_before_spending_and_runs_with_yes(tmp_path, taxonomy, llm_server):
    from core.store.connection import connect

    db_path = tmp_path / "t.duckdb"
    with connect(db_path) as db:
        notes_db(db, taxonomy, per_mode=3)
    env = clean_env() | {"OPENAI_API_KEY": KEY, "TRIAGE_LLM_BASE_URL": llm_server.base_url,
                         "TRIAGE_LLM_MAX_RETRIES": "0"}
    llm_server.state.default = naming
    cmd = [*TRIAGE, "--db", str(db_path), "discover", "--format", "json", "--saturation-steps", "0"]
    no = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert no.returncode == 2 and "re-run with --yes" in no.stderr and llm_server.state.count == 0
    assert "estimated cost at most $" in no.stderr
    yes = subprocess.run([*cmd, "--yes"], env=env, capture_output=True, text=True)
    assert yes.returncode == 0, yes.stderr
    out = json.loads(yes.stdout)
    assert out["method"]["name"] == "text-embedding-3-small+hdbscan"
    assert all(c["name"].startswith("About ") for c in out["clusters"])
    assert KEY not in yes.stdout + yes.stderr
