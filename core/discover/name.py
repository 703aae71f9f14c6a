"""Naming clusters with the chat model: a name, a one-paragraph definition, "not this when" and
a suggested fix class, by structured output; cached per (model, prompt, examples) in m022. An
answer that does not fit keeps the top-terms name and says why: a cluster is never lost."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import openai
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.discover.llm import LLMContext
from core.discover.model import Cluster
from core.prelabel.llm import describe_api_error
from core.prelabel.plan import cost_of
from core.store import discover as store

N_SHOWN = 8  # the most central notes shown to the model
NAMING_FIX_CLASSES = ("pipeline", "behavior", "model", "unknown")
SYSTEM = (
    "You help a team build a taxonomy of failure modes of their LLM product. You get reviewers' "
    "notes that a clustering put in one group. Name the failure mode they share in 2-5 words; "
    "define it in one paragraph a new reviewer can apply; say when NOT to use it; suggest a fix "
    "class: pipeline (fixable without touching model weights: retrieval, context, tools, data), "
    "behavior (format, tone, policy, escalation: candidates for fine-tuning once prompting "
    "plateaus), model (reasoning or capability: a prompt or model choice), unknown (cannot "
    "tell). Answer with JSON only.")
PROMPT_VERSION = hashlib.sha256(SYSTEM.encode()).hexdigest()[:12]


class NamingAnswer(BaseModel):
    """What the chat model must return for one cluster."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=60)
    definition: str = Field(min_length=10, max_length=1500)
    not_this_when: str = Field(min_length=5, max_length=600)
    fix_class: str

    def checked(self) -> NamingAnswer:
        if self.fix_class not in NAMING_FIX_CLASSES:
            raise ValueError(f"fix_class {self.fix_class!r} is not one of "
                             f"{', '.join(NAMING_FIX_CLASSES)}")
        return self


def response_format() -> dict:
    """Strict JSON schema for the naming answer."""
    schema = {"type": "object", "additionalProperties": False,
              "required": ["name", "definition", "not_this_when", "fix_class"],
              "properties": {"name": {"type": "string"}, "definition": {"type": "string"},
                             "not_this_when": {"type": "string"},
                             "fix_class": {"type": "string", "enum": list(NAMING_FIX_CLASSES)}}}
    return {"type": "json_schema",
            "json_schema": {"name": "cluster_name", "strict": True, "schema": schema}}


def naming_messages(ctx: LLMContext, cluster: Cluster, texts: list[str]) -> list[dict]:
    """The request for one cluster: its most central notes (redacted) and top terms."""
    shown = "\n".join(f"- {ctx.prepare(t)}" for t in texts[:N_SHOWN])
    user = (f"{cluster.size} notes are in this group. The most typical:\n{shown}\n\n"
            f"Distinctive terms: {', '.join(cluster.top_terms) or 'none'}.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def parse_naming(content: str | None) -> tuple[NamingAnswer | None, str | None]:
    """(answer, None), or (None, why it does not fit)."""
    if not content:
        return None, "empty answer"
    try:
        return NamingAnswer.model_validate(json.loads(content)).checked(), None
    except json.JSONDecodeError as e:
        return None, f"answer is not JSON ({e.msg} at char {e.pos})"
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(map(str, first["loc"])) or "answer"
        return None, f"answer does not fit the schema: {where}: {first['msg']}"
    except ValueError as e:
        return None, f"answer does not fit the schema: {e}"


def _ask(ctx: LLMContext, messages: list[dict]) -> tuple[dict | None, str | None, int, int]:
    model = ctx.settings.llm_model
    ctx.requests += 1
    try:
        resp = ctx.client.chat.completions.create(model=model, messages=messages,
                                                  temperature=0, response_format=response_format())
    except openai.OpenAIError as e:
        return None, describe_api_error(e, ctx.settings)[0], 0, 0
    t_in = resp.usage.prompt_tokens if resp.usage else 0
    t_out = resp.usage.completion_tokens if resp.usage else 0
    ctx.tokens_in, ctx.tokens_out = ctx.tokens_in + t_in, ctx.tokens_out + t_out
    ctx.cost_usd += cost_of(ctx.price(model), t_in, t_out)
    content = resp.choices[0].message.content if resp.choices else None
    answer, reason = parse_naming(content)
    return (answer.model_dump() if answer else None), reason, t_in, t_out


def name_cluster(ctx: LLMContext, cluster: Cluster, texts: list[str]) -> Cluster:
    """The cluster named by the chat model (cached), or as it was with `naming_error` set."""
    messages = naming_messages(ctx, cluster, texts)
    key = hashlib.sha256(json.dumps(messages).encode()).hexdigest()[:24]
    model = ctx.settings.llm_model
    answer = (store.cached_cluster_name(ctx.db, model, PROMPT_VERSION, key)
              if ctx.db is not None else None)
    if answer is not None:
        ctx.cached += 1
    else:
        answer, reason, t_in, t_out = _ask(ctx, messages)
        if answer is None:
            return dataclasses.replace(cluster, naming_error=reason)
        if ctx.db is not None:
            store.save_cluster_name(ctx.db, model, PROMPT_VERSION, key, answer, t_in, t_out,
                                    cost_of(ctx.price(model), t_in, t_out))
    return dataclasses.replace(cluster, name=answer["name"].strip(),
                               definition=answer["definition"].strip(),
                               not_this_when=answer["not_this_when"].strip(),
                               fix_class=answer["fix_class"], named_by=model)
