"""Where the app's LLM requests go: the admin's `llm_base_url` and `llm_model` settings over
the environment's. The base URL and model are never taken from a page's form; the
environment's key goes only to the URL it was configured with (core/prelabel/llm.key_for)."""

from __future__ import annotations

import dataclasses

from core.config import Settings
from core.logs import redact_url
from core.prelabel.llm import OPENAI_URL, key_notice
from core.store.connection import Database
from core.store.settings import get_settings


def app_llm_settings(db: Database, settings: Settings) -> Settings:
    """The process settings with the admin's base URL and model applied (empty: the
    environment's). The key stays tied to the environment's URL."""
    stored = get_settings(db, "llm_base_url", "llm_model")
    return dataclasses.replace(settings,
                               llm_base_url=str(stored["llm_base_url"]).strip() or settings.llm_base_url,
                               llm_model=str(stored["llm_model"]).strip() or settings.llm_model)


def endpoint_lines(settings: Settings) -> list[str]:
    """What the Pre-label page says about where requests go, credentials removed."""
    url = redact_url(settings.llm_base_url) or OPENAI_URL
    lines = [f"LLM: model `{settings.llm_model}` at `{url}` (an admin changes these on the "
             "Settings page: `llm_base_url`, `llm_model`)."]
    if (notice := key_notice(settings)) is not None:
        lines.append(notice)
    return lines
