"""Counting tokens offline: tiktoken's exact count where the model's vocabulary is already in
tiktoken's cache, else the approximation of core/prelabel/budget.py. tiktoken downloads a
missing vocabulary (and re-downloads one whose hash does not match), so the cache file is
found and checked here first and tiktoken is only asked when it will read that file."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import tiktoken_cache_dir
from core.prelabel.budget import count_tokens

log = logging.getLogger("triage.tokens")
_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
# tiktoken's own expected sha256 of each vocabulary file (tiktoken_ext/openai_public.py).
VOCABULARY_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
APPROXIMATION = ("approximation: words in pieces of about six letters, digits in groups of "
                 "three, one token per punctuation mark (no tokenizer vocabulary cached)")
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")
MESSAGE_OVERHEAD = 4  # role and separators around each chat message
REPLY_PRIMING = 3  # tokens that start the assistant's reply


@dataclass(frozen=True)
class TokenCounter:
    """How tokens are counted: `method` says which way, in words a report can print."""

    method: str
    exact: bool
    count: Callable[[str], int]


def vocabulary_path(encoding: str, cache_dir: Path | None) -> Path | None:
    """tiktoken's cache file for an encoding, when it is present and its hash is right."""
    if cache_dir is None or encoding not in VOCABULARY_SHA256:
        return None
    path = cache_dir / hashlib.sha1(_BLOB.format(encoding).encode()).hexdigest()
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return path if hashlib.sha256(data).hexdigest() == VOCABULARY_SHA256[encoding] else None


def _encoding_name(model: str) -> str | None:
    import tiktoken

    for name in (model, _DATED.sub("", model)):
        try:
            return tiktoken.encoding_name_for_model(name)
        except KeyError:
            continue
    return None


def token_counter(model: str) -> TokenCounter:
    """tiktoken for `model` when installed and its vocabulary is in tiktoken's cache (the folder
    tiktoken itself reads, so it reads the checked file), else the approximation."""
    cache_dir = tiktoken_cache_dir()
    try:
        import tiktoken
    except ImportError:
        return TokenCounter(APPROXIMATION, False, count_tokens)
    encoding = _encoding_name(model)
    if encoding is None or vocabulary_path(encoding, cache_dir) is None:
        return TokenCounter(APPROXIMATION, False, count_tokens)
    try:
        enc = tiktoken.get_encoding(encoding)  # reads the cache file checked above
    except Exception:  # noqa: BLE001 - any tokenizer trouble: count approximately, say so in the log
        log.warning("tiktoken could not load %s; counting approximately", encoding, exc_info=True)
        return TokenCounter(APPROXIMATION, False, count_tokens)
    return TokenCounter(f"tiktoken {encoding} (its cached vocabulary for {model})", True,
                        lambda text: len(enc.encode(text, disallowed_special=())))


def message_text(message: dict[str, Any]) -> str:
    """The text a chat message puts before the model: its content (the text parts of a list),
    its name, and its tool calls' names and arguments."""
    content = message.get("content")
    if isinstance(content, list):
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    parts = [content if isinstance(content, str) else "", str(message.get("name") or "")]
    for call in message.get("tool_calls") or []:
        fn = (call.get("function") or {}) if isinstance(call, dict) else {}
        parts += [str(fn.get("name") or ""), str(fn.get("arguments") or "")]
    return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class ConversationTokens:
    """What serving one conversation cost in tokens: every assistant turn is a model call that
    reads everything before it (tool definitions and retrieved context included) and writes
    its own message."""

    input_tokens: int
    output_tokens: int
    calls: int


def conversation_tokens(messages: list[dict[str, Any]], context: list[dict[str, Any]] | None,
                        tools: list[dict[str, Any]] | None,
                        count: Callable[[str], int]) -> ConversationTokens:
    """Input and output tokens over a conversation's model calls (see ConversationTokens)."""
    prefix = count(json.dumps(tools)) if tools else 0
    prefix += sum(count(str(d.get("text") or "")) for d in context or [] if isinstance(d, dict))
    tokens_in = tokens_out = calls = 0
    for m in messages:
        tokens = count(message_text(m)) + MESSAGE_OVERHEAD
        if m.get("role") == "assistant":
            tokens_in += prefix + REPLY_PRIMING
            tokens_out += tokens
            calls += 1
        prefix += tokens
    return ConversationTokens(tokens_in, tokens_out, calls)
