"""Settings built once from the environment and CLI flags: the only place os.environ is read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

# Every environment variable Triage reads, with its meaning (docs/configuration.md lists these;
# a test checks).
ENV_VARS: dict[str, str] = {
    "TRIAGE_DB": "path of the DuckDB file (default ./triage.duckdb)",
    "TRIAGE_USER": "reviewer name; presets identity in the app and names the CLI user",
    "OPENAI_API_KEY": "API key for the LLM pre-labeler (never stored or logged)",
    "TRIAGE_LLM_BASE_URL": "OpenAI-compatible base URL (Azure, vLLM, Ollama, LM Studio); "
                           "OPENAI_API_KEY is sent only to this URL (or OpenAI's without it)",
    "OPENAI_BASE_URL": "read when TRIAGE_LLM_BASE_URL is unset (the openai client's own name)",
    "TRIAGE_LLM_MODEL": "model name for the LLM pre-labeler (default gpt-4o-mini)",
    "TRIAGE_EMBEDDING_MODEL": "embedding model for `triage discover` with an LLM configured "
                              "(default text-embedding-3-small)",
    "TRIAGE_LLM_TIMEOUT": "seconds before one LLM request times out (default 60)",
    "TRIAGE_LLM_MAX_RETRIES": "retries the openai client makes on 408/409/429/5xx (default 2)",
    "TRIAGE_LOG": "log file path (default <db folder>/triage.log)",
    "LANGFUSE_HOST": "Langfuse address for `triage import --from langfuse` (default "
                     "https://cloud.langfuse.com)",
    "LANGFUSE_PUBLIC_KEY": "Langfuse public key for `--from langfuse` (never stored or logged)",
    "LANGFUSE_SECRET_KEY": "Langfuse secret key for `--from langfuse` (never stored or logged)",
    "LANGSMITH_API_KEY": "LangSmith API key for `triage import --from langsmith` (never stored "
                         "or logged)",
    "LANGSMITH_ENDPOINT": "LangSmith API address (default https://api.smith.langchain.com)",
    "LANGSMITH_PROJECT": "LangSmith project `--from langsmith` reads (or --project)",
    "TRIAGE_LOG_LEVEL": "logging level (default INFO)",
    "TIKTOKEN_CACHE_DIR": "tiktoken's vocabulary cache; when it holds the model's vocabulary, "
                          "the cost panel counts tokens exactly (never downloaded)",
    "DATA_GYM_CACHE_DIR": "tiktoken's older cache variable, read when TIKTOKEN_CACHE_DIR is unset",
}


@dataclass(frozen=True)
class Settings:
    """Process-wide configuration. Core functions take these values as arguments."""

    db_path: Path = Path("triage.duckdb")
    user: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    llm_base_url: str | None = None
    # The base URL OPENAI_API_KEY was configured with (the environment's), kept apart from
    # llm_base_url, which an admin's setting may change: the key goes only here.
    key_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    embedding_model: str = "text-embedding-3-small"
    llm_timeout: float = 60.0
    llm_max_retries: int = 2
    log_path: Path | None = None
    log_level: str = "INFO"
    langfuse_host: str = "https://cloud.langfuse.com"
    langfuse_public_key: str | None = field(default=None, repr=False)
    langfuse_secret_key: str | None = field(default=None, repr=False)
    langsmith_api_key: str | None = field(default=None, repr=False)
    langsmith_endpoint: str = "https://api.smith.langchain.com"
    langsmith_project: str | None = None
    db_given: bool = False  # --db or TRIAGE_DB named the database (else the default path)

    @property
    def snapshot_path(self) -> Path:
        """The analysts' snapshot beside the database: `<name>.snapshot.duckdb`."""
        return snapshot_path_for(self.db_path)

    @property
    def resolved_log_path(self) -> Path:
        return self.log_path or self.db_path.resolve().parent / "triage.log"


def snapshot_path_for(db_path: Path) -> Path:
    """`x.duckdb` → `x.snapshot.duckdb` in the same folder."""
    return db_path.with_name(db_path.stem + ".snapshot.duckdb")


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings from the environment, then apply non-None overrides (CLI flags)."""
    env = os.environ if env is None else env
    base = Settings(
        db_path=Path(env.get("TRIAGE_DB") or "triage.duckdb"),
        user=env.get("TRIAGE_USER") or None,
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        llm_base_url=env.get("TRIAGE_LLM_BASE_URL") or env.get("OPENAI_BASE_URL") or None,
        llm_model=env.get("TRIAGE_LLM_MODEL") or "gpt-4o-mini",
        embedding_model=env.get("TRIAGE_EMBEDDING_MODEL") or "text-embedding-3-small",
        llm_timeout=float(env.get("TRIAGE_LLM_TIMEOUT") or 60.0),
        llm_max_retries=int(env.get("TRIAGE_LLM_MAX_RETRIES") or 2),
        log_path=Path(env["TRIAGE_LOG"]) if env.get("TRIAGE_LOG") else None,
        log_level=env.get("TRIAGE_LOG_LEVEL") or "INFO",
        langfuse_host=env.get("LANGFUSE_HOST") or "https://cloud.langfuse.com",
        langfuse_public_key=env.get("LANGFUSE_PUBLIC_KEY") or None,
        langfuse_secret_key=env.get("LANGFUSE_SECRET_KEY") or None,
        langsmith_api_key=env.get("LANGSMITH_API_KEY") or None,
        langsmith_endpoint=env.get("LANGSMITH_ENDPOINT") or "https://api.smith.langchain.com",
        langsmith_project=env.get("LANGSMITH_PROJECT") or None,
    )
    base = replace(base, key_base_url=base.llm_base_url)
    given = {k: v for k, v in overrides.items() if v is not None}
    if "db_path" in given:
        given["db_path"] = Path(given["db_path"])  # type: ignore[arg-type]
    given.setdefault("db_given", bool(env.get("TRIAGE_DB")) or "db_path" in given)
    return replace(base, **given)  # type: ignore[arg-type]


def tiktoken_cache_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """Where tiktoken keeps downloaded vocabularies, by tiktoken's own rule (TIKTOKEN_CACHE_DIR,
    else DATA_GYM_CACHE_DIR, else <tmp>/data-gym-cache); None when caching is turned off ("")."""
    import tempfile

    env = os.environ if env is None else env
    for name in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if name in env:
            return Path(env[name]) if env[name] else None
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment for a child process (the Streamlit server of `triage app`): this
    process's environment with TRIAGE_DB (absolute) and TRIAGE_USER taken from `settings`."""
    env = dict(os.environ)
    env["TRIAGE_DB"] = str(settings.db_path.resolve())
    if settings.user:
        env["TRIAGE_USER"] = settings.user
    return env
