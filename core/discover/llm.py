"""Discovery with an LLM configured: the client of the pre-labeler (core/prelabel/llm.py, one
home), embeddings from /v1/embeddings, texts redacted first, a cost estimate before any request,
and the cache in the database (m021) so a re-run sends nothing for a text seen before."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import openai
from openai import OpenAI

from core.config import Settings
from core.errors import DiscoveryFailed
from core.prelabel.budget import count_tokens
from core.prelabel.llm import describe_api_error
from core.prelabel.plan import cost_of
from core.prelabel.redact import compile_patterns, redact
from core.store import discover as store
from core.store.connection import Database
from core.store.settings import SETTINGS, get_settings

EMBED_BATCH = 128  # texts per /v1/embeddings request
EST_NAMING_TOKENS_IN = 900  # one naming prompt: instructions, up to 8 examples, top terms
EST_NAMING_TOKENS_OUT = 200


def text_hash(text: str) -> str:
    """The cache key of a (redacted) text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass
class LLMContext:
    """What the LLM path needs: the client, settings, the cache (None: no database, uncached),
    prices and redaction, and counters of what was sent."""

    client: OpenAI
    settings: Settings
    db: Database | None
    price_table: dict
    redact_pii: bool = True
    patterns: list[re.Pattern] = field(default_factory=list)
    requests: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0

    @classmethod
    def build(cls, client: OpenAI, settings: Settings, db: Database | None) -> LLMContext:
        """Prices and redaction from the database's settings, else their defaults."""
        keys = ("price_table", "redact_pii", "redact_patterns")
        values = (get_settings(db, *keys) if db is not None
                  else {k: SETTINGS[k].default for k in keys})
        return cls(client, settings, db, values["price_table"], bool(values["redact_pii"]),
                   compile_patterns(values["redact_patterns"]))

    def prepare(self, text: str) -> str:
        """The text as it may leave the machine."""
        return redact(text, self.patterns) if self.redact_pii else text

    def price(self, model: str) -> dict | None:
        return self.price_table.get(model)


@dataclass(frozen=True)
class LLMEstimate:
    """What an LLM discovery would send and cost, before anything is sent."""

    embedding_model: str
    chat_model: str
    texts_to_embed: int
    texts_cached: int
    embed_tokens: int
    max_naming_requests: int
    est_cost: float
    notices: tuple[str, ...]

    def lines(self) -> list[str]:
        """The estimate in words, for the CLI and the page."""
        out = [f"embeddings ({self.embedding_model}): {self.texts_to_embed} notes to embed "
               f"(~{self.embed_tokens} tokens), {self.texts_cached} cached",
               f"naming ({self.chat_model}): at most {self.max_naming_requests} requests "
               "(one per cluster not named before)",
               f"estimated cost at most ${self.est_cost:.4f}"]
        return out + list(self.notices)


def estimate(ctx: LLMContext, texts: list[str], max_clusters: int) -> LLMEstimate:
    """Count uncached texts and their tokens; naming is bounded by max_clusters requests."""
    prepared = [ctx.prepare(t) for t in texts]
    hashes = list(dict.fromkeys(text_hash(t) for t in prepared))
    cached = _cached(ctx, hashes)
    todo = {text_hash(t): t for t in prepared if text_hash(t) not in cached}
    tokens = sum(count_tokens(t) for t in todo.values())
    emb_model, chat_model = ctx.settings.embedding_model, ctx.settings.llm_model
    notices = [f"no price for model {m!r} in the price_table setting: counted as $0"
               for m in dict.fromkeys((emb_model, chat_model)) if not ctx.price(m)]
    cost = (cost_of(ctx.price(emb_model), tokens, 0) + max_clusters * cost_of(
        ctx.price(chat_model), EST_NAMING_TOKENS_IN, EST_NAMING_TOKENS_OUT))
    return LLMEstimate(emb_model, chat_model, len(todo), len(hashes) - len(todo), tokens,
                       max_clusters, cost, tuple(notices))


def _cached(ctx: LLMContext, hashes: list[str]) -> dict[str, list[float]]:
    if ctx.db is None:
        return {}
    return store.cached_embeddings(ctx.db, ctx.settings.embedding_model, hashes)


def _request(ctx: LLMContext, batch: list[str]) -> list[list[float]]:
    """One /v1/embeddings request; DiscoveryFailed on an API error or a malformed answer."""
    try:
        resp = ctx.client.embeddings.create(model=ctx.settings.embedding_model, input=batch)
    except openai.OpenAIError as e:
        reason, _ = describe_api_error(e, ctx.settings)
        raise DiscoveryFailed(f"embeddings request failed: {reason}; nothing was clustered") from e
    finally:
        ctx.requests += 1
    data = sorted(resp.data or [], key=lambda d: d.index)
    vectors = [list(d.embedding) for d in data if isinstance(d.embedding, list)]
    if len(vectors) != len(batch) or len({len(v) for v in vectors}) != 1 or not vectors[0]:
        raise DiscoveryFailed(
            f"the embeddings endpoint answered {len(vectors)} vectors for {len(batch)} texts "
            "(or vectors of different or zero length); nothing was clustered")
    tokens = resp.usage.prompt_tokens if resp.usage else sum(count_tokens(t) for t in batch)
    ctx.tokens_in += tokens
    ctx.cost_usd += cost_of(ctx.price(ctx.settings.embedding_model), tokens, 0)
    return vectors


def embed(ctx: LLMContext, texts: list[str]) -> np.ndarray:
    """One vector per text, from the cache where possible, new ones stored as they arrive."""
    prepared = [ctx.prepare(t) for t in texts]
    hashes = [text_hash(t) for t in prepared]
    known = _cached(ctx, list(dict.fromkeys(hashes)))
    ctx.cached += len(set(hashes) & set(known))
    todo = list(dict.fromkeys(h for h in hashes if h not in known))
    by_hash = dict(zip(hashes, prepared, strict=True))
    for start in range(0, len(todo), EMBED_BATCH):
        batch = todo[start:start + EMBED_BATCH]
        fresh = dict(zip(batch, _request(ctx, [by_hash[h] for h in batch]), strict=True))
        if ctx.db is not None:
            store.save_embeddings(ctx.db, ctx.settings.embedding_model, fresh,
                                  {h: count_tokens(by_hash[h]) for h in batch})
        known.update(fresh)
    widths = {len(v) for v in known.values()}
    if len(widths) > 1:
        raise DiscoveryFailed(f"cached embeddings of {ctx.settings.embedding_model!r} have "
                              f"different lengths {sorted(widths)}; nothing was clustered")
    # Through float32, as the cache stores them: a re-run from the cache then sees the very
    # same vectors, so the same clusters and the same naming requests (all cached).
    return np.array([known[h] for h in hashes], dtype=np.float32).astype(np.float64)
