"""The LLM pre-labeler: the real `openai` client, structured output, one repair, no label
unless the answer fits the schema and the taxonomy."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import openai
from openai import OpenAI
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.config import Settings
from core.logs import redact_url
from core.taxonomy import Taxonomy

_FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.DOTALL)
# Local servers (vLLM, Ollama, LM Studio) want some key; they ignore its value.
PLACEHOLDER_KEY = "not-needed-local-server"


class Answer(BaseModel):
    """What the model must return (validated before anything becomes a suggestion)."""

    model_config = ConfigDict(extra="forbid")
    primary_label: str
    secondary_labels: list[str] = Field(default_factory=list)
    confidence: float = Field(ge=0, le=1)
    rationale: str = Field(max_length=2000)
    evidence: str = Field(default="", max_length=2000)


@dataclass(frozen=True)
class LLMResult:
    """The outcome of asking about one transcript (a label or a failure reason)."""

    answer: Answer | None
    error: str | None
    latency_ms: int
    tokens_in: int
    tokens_out: int
    fatal: bool = False  # wrong key, unknown model: every further request would fail too


OPENAI_URL = "https://api.openai.com/v1"


def _same_url(a: str | None, b: str | None) -> bool:
    return (a or OPENAI_URL).strip().rstrip("/").lower() == (b or OPENAI_URL).strip().rstrip("/").lower()


def key_for(settings: Settings) -> str | None:
    """The API key to send to `settings.llm_base_url`: the environment's key only when that is
    the URL the key was configured with (TRIAGE_LLM_BASE_URL / OPENAI_BASE_URL, else OpenAI's,
    or the CLI's --base-url beside it); any other URL (an admin's setting) gets no key."""
    if settings.openai_api_key and _same_url(settings.llm_base_url, settings.key_base_url):
        return settings.openai_api_key
    return None


def key_notice(settings: Settings) -> str | None:
    """What to say when the environment's key is held back from the configured URL."""
    if not settings.openai_api_key or key_for(settings) is not None:
        return None
    return (f"OPENAI_API_KEY is configured for {redact_url(settings.key_base_url) or OPENAI_URL}, "
            f"so it is not sent to {redact_url(settings.llm_base_url)} (the llm_base_url "
            "setting): requests go there without a key. For a server that needs one, start the "
            f"app with TRIAGE_LLM_BASE_URL={redact_url(settings.llm_base_url)} and that "
            "server's key in OPENAI_API_KEY.")


def make_client(settings: Settings) -> OpenAI | None:
    """The client from explicit settings; None when there is neither a key nor a base URL
    (the caller then uses the offline labeler). The key goes only where key_for allows."""
    if not settings.openai_api_key and not settings.llm_base_url:
        return None
    key = key_for(settings)
    if key is None and not settings.llm_base_url:
        return None
    return OpenAI(api_key=key or PLACEHOLDER_KEY,
                  base_url=settings.llm_base_url or OPENAI_URL,
                  max_retries=settings.llm_max_retries, timeout=settings.llm_timeout)


def response_format(taxonomy: Taxonomy) -> dict:
    """Structured output: a strict JSON schema whose labels are the taxonomy's keys."""
    keys = list(taxonomy.keys)
    schema = {
        "type": "object",
        "properties": {
            "primary_label": {"type": "string", "enum": keys},
            "secondary_labels": {"type": "array", "items": {"type": "string", "enum": keys}},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "rationale": {"type": "string"},
            "evidence": {"type": "string"},
        },
        "required": ["primary_label", "secondary_labels", "confidence", "rationale", "evidence"],
        "additionalProperties": False,
    }
    return {"type": "json_schema",
            "json_schema": {"name": "failure_label", "strict": True, "schema": schema}}


def parse_answer(content: str | None, taxonomy: Taxonomy) -> tuple[Answer | None, str | None]:
    """(answer, None) when the content is valid JSON, fits the schema and the taxonomy;
    else (None, reason)."""
    if not content:
        return None, "empty answer"
    fenced = _FENCE.fullmatch(content.strip())  # some local servers wrap JSON in a code fence
    if fenced:
        content = fenced.group(1)
    try:
        answer = Answer.model_validate(json.loads(content))
    except json.JSONDecodeError as e:
        return None, f"answer is not JSON ({e.msg} at char {e.pos})"
    except ValidationError as e:
        first = e.errors()[0]
        return None, f"answer does not fit the schema: {'.'.join(map(str, first['loc']))}: {first['msg']}"
    unknown = [k for k in [answer.primary_label, *answer.secondary_labels] if k not in taxonomy.keys]
    if unknown:
        return None, f"{'labels' if len(unknown) > 1 else 'a label'} outside the taxonomy: {', '.join(map(repr, unknown))}"
    return answer, None


def describe_api_error(e: openai.OpenAIError, settings: Settings) -> tuple[str, bool]:
    """A row's failure reason for an SDK error (after the SDK's own retries), and whether it is
    fatal for the run. Never includes the key."""
    retries = settings.llm_max_retries
    if isinstance(e, openai.APITimeoutError):
        return f"timeout: no answer within {settings.llm_timeout:g} s ({retries} retries)", False
    if isinstance(e, openai.RateLimitError):
        return f"rate limited: HTTP 429 after {retries} retries", False
    if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
        return f"HTTP {e.status_code}: the API key was refused", True
    if isinstance(e, openai.NotFoundError):
        return f"HTTP 404: model or endpoint not found ({settings.llm_model})", True
    if isinstance(e, openai.APIStatusError):
        return f"HTTP {e.status_code} after {retries} retries", False
    if isinstance(e, openai.APIConnectionError):
        return f"connection error: cannot reach {redact_url(settings.llm_base_url) or 'api.openai.com'}", False
    return f"{type(e).__name__}", False


def _repair_message(reason: str, taxonomy: Taxonomy) -> dict:
    return {"role": "user", "content": (
        f"Your answer was invalid: {reason}. Answer again with JSON only, matching the schema; "
        f"primary_label must be one of: {', '.join(taxonomy.keys)}.")}


def _complete(client: OpenAI, settings: Settings, messages: list[dict],
              taxonomy: Taxonomy) -> tuple[str | None, int, int]:
    """One chat completion with the taxonomy's structured output: (content, tokens in, out)."""
    resp = client.chat.completions.create(
        model=settings.llm_model, messages=messages, temperature=0,
        response_format=response_format(taxonomy))
    tokens_in = (resp.usage.prompt_tokens or 0) if resp.usage else 0
    tokens_out = (resp.usage.completion_tokens or 0) if resp.usage else 0
    return (resp.choices[0].message.content if resp.choices else None), tokens_in, tokens_out


def request_body(settings: Settings, messages: list[dict], taxonomy: Taxonomy) -> dict:
    """The chat-completions request `ask` sends, as a Batch API line's body."""
    return {"model": settings.llm_model, "messages": messages, "temperature": 0,
            "response_format": response_format(taxonomy)}


def repair_answer(client: OpenAI, settings: Settings, messages: list[dict], content: str | None,
                  reason: str, taxonomy: Taxonomy, tokens: tuple[int, int] = (0, 0),
                  started: float | None = None) -> LLMResult:
    """The one repair request for an invalid answer (the first synchronous one, or a Batch API
    line's): the answer and what was wrong with it go back to the model."""
    started = time.perf_counter() if started is None else started
    tokens_in, tokens_out = tokens
    retry = [*messages, {"role": "assistant", "content": content or ""},
             _repair_message(reason, taxonomy)]
    try:
        content, n_in, n_out = _complete(client, settings, retry, taxonomy)
    except openai.OpenAIError as e:
        reason, fatal = describe_api_error(e, settings)
        return LLMResult(None, reason, _ms(started), tokens_in, tokens_out, fatal)
    answer, why = parse_answer(content, taxonomy)
    if answer is not None:
        return LLMResult(answer, None, _ms(started), tokens_in + n_in, tokens_out + n_out)
    return LLMResult(None, f"invalid answer after one repair: {why}", _ms(started),
                     tokens_in + n_in, tokens_out + n_out)


def ask(client: OpenAI, settings: Settings, messages: list[dict], taxonomy: Taxonomy) -> LLMResult:
    """One request (plus at most one repair request) for one transcript."""
    started = time.perf_counter()
    try:
        content, tokens_in, tokens_out = _complete(client, settings, messages, taxonomy)
    except openai.OpenAIError as e:
        reason, fatal = describe_api_error(e, settings)
        return LLMResult(None, reason, _ms(started), 0, 0, fatal)
    answer, reason = parse_answer(content, taxonomy)
    if answer is not None:
        return LLMResult(answer, None, _ms(started), tokens_in, tokens_out)
    return repair_answer(client, settings, messages, content, reason or "invalid", taxonomy,
                         (tokens_in, tokens_out), started)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
