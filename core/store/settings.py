"""The append-only `settings` table: the latest row per key wins, defaults otherwise."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import UsageError
from core.store.connection import Database, utcnow


@dataclass(frozen=True)
class SettingSpec:
    """A setting's default, its meaning, and how a typed value is checked."""

    default: Any
    meaning: str
    kind: type | tuple[type, ...]
    choices: tuple[str, ...] | None = None


SETTINGS: dict[str, SettingSpec] = {
    "overlap_share": SettingSpec(
        0.2, "share of transcripts (0–1) that a second reviewer labels blind, for agreement", float),
    "prelabel_display": SettingSpec(
        "shown", "pre-label display: shown, blind (revealed after the reviewer saves) or hidden",
        str, ("shown", "blind", "hidden")),
    "queue_seed": SettingSpec(0, "seed of the random queue order", int),
    "admins": SettingSpec(
        [], "names with the admin role: Import, Pre-label, Settings, Admin, Discover and every admin action "
        "(empty: everyone is an admin, for a fresh install)", list),
    "analysts": SettingSpec(
        [], "names with the analyst role: the SQL page, exports, Adjudicate (set once "
        "`admins` is)", list),
    "llm_base_url": SettingSpec(
        "", "OpenAI-compatible base URL for pre-labels run from the app (empty: the environment's "
        "TRIAGE_LLM_BASE_URL / OPENAI_BASE_URL, else OpenAI); OPENAI_API_KEY is sent only to "
        "the URL configured with it in the environment", str),
    "llm_model": SettingSpec(
        "", "model for pre-labels run from the app (empty: TRIAGE_LLM_MODEL, else gpt-4o-mini)", str),
    "sql_max_result_bytes": SettingSpec(
        50_000_000, "largest SQL page result in bytes (Arrow size); bigger results are refused "
                    "(`triage export` or the DuckDB CLI on the snapshot for more)", int),
    "price_table": SettingSpec(
        {"gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
         "gpt-4o": {"input_per_mtok": 2.5, "output_per_mtok": 10.0},
         "gpt-4.1-mini": {"input_per_mtok": 0.4, "output_per_mtok": 1.6},
         "text-embedding-3-small": {"input_per_mtok": 0.02, "output_per_mtok": 0.0}},
        "USD per million input/output tokens by model, for pre-label cost estimates", dict),
    "snapshot_interval": SettingSpec(
        30, "seconds between snapshot refreshes after writes (the analysts' copy)", int),
    "active_taxonomy": SettingSpec("default", "taxonomy used for labeling and the report", str),
    "metadata_allowlist": SettingSpec(
        [], "metadata fields sent to the LLM pre-labeler (default none: outcome fields leak)", list),
    "redact_pii": SettingSpec(True, "redact emails, phones, cards, IBANs before sending to an LLM", bool),
    "redact_patterns": SettingSpec(
        [], "extra regular expressions to redact before sending to an LLM", list),
    "cost_scenario": SettingSpec(
        {}, "the team's own case for the report's cost panel: queries_per_month, "
        "avg_input_tokens, avg_output_tokens, api_model, training_cost_usd, "
        "tuned_serving_usd_per_month, amortize_months (a missing key is measured or defaulted)",
        dict),
    "batch_price_table": SettingSpec(
        {}, "USD per million input/output tokens for Batch API pre-labels by model (a model not "
        "listed: half of its price_table entry)", dict),
    "tried_prompting_first": SettingSpec(
        "unanswered", "has the team tried prompting first (few-shot examples, explicit format "
        "instructions for the categories proposed for tuning)? yes, no or unanswered", str,
        ("unanswered", "yes", "no")),
    "reviewer_hidden_fields": SettingSpec(
        ["*reward*", "*score*", "*success*", "*label*", "*gold*", "*outcome*", "*expected*",
         "*judge*", "*eval*", "*truth*", "*solved*", "*correct*", "*mistake*", "*grade*",
         "*rating*", "*verdict*", "*feedback*", "r_*"],
        "metadata keys never shown on Annotate and Adjudicate, and on Browse only to admins "
        "(key names or globs such as *score*, any case)", list),
    "population_scope": SettingSpec(
        "all", "what the report's population estimate is about: `all` active transcripts, or "
        "the id of a random sample drawn with --where (the active transcripts its filter "
        "matches; its labels and unfiltered samples' labels in it are the human sample)", str),
    "report_fields": SettingSpec(
        [], "metadata keys the exported report prints beside each example (default none)", list),
}
COST_SCENARIO_KEYS = {
    "queries_per_month": (int, float), "avg_input_tokens": (int, float),
    "avg_output_tokens": (int, float), "api_model": str, "training_cost_usd": (int, float),
    "tuned_serving_usd_per_month": (int, float), "amortize_months": (int, float)}


@dataclass(frozen=True)
class SettingChange:
    """One row of the settings history."""

    key: str
    value: Any
    set_by: str | None
    set_at: datetime


def _spec(key: str) -> SettingSpec:
    if key not in SETTINGS:
        raise UsageError(f"unknown setting {key!r}; known: {', '.join(SETTINGS)}")
    return SETTINGS[key]


def coerce_setting(key: str, value: Any) -> Any:
    """Check a value (or parse it from text, as the CLI gives it) against the setting's type."""
    spec = _spec(key)
    if isinstance(value, str) and spec.kind is not str:
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise UsageError(f"{key}: {value!r} is not valid JSON ({e.msg})") from e
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, spec.kind) or (spec.kind is not bool and isinstance(value, bool)):
        raise UsageError(f"{key}: expected {getattr(spec.kind, '__name__', spec.kind)}, got {value!r}")
    if spec.choices and value not in spec.choices:
        raise UsageError(f"{key}: {value!r} is not one of {', '.join(spec.choices)}")
    _check_contents(key, value)
    return value


def _check_contents(key: str, value: Any) -> None:
    """What a type check cannot see: ranges, list items, price entries, patterns."""
    if key == "overlap_share" and not 0 <= value <= 1:
        raise UsageError("overlap_share must be between 0 and 1")
    if key == "snapshot_interval" and value < 1:
        raise UsageError("snapshot_interval must be at least 1 second")
    if key == "llm_base_url" and value.strip() and not re.match(r"https?://[^\s/]+", value.strip()):
        raise UsageError(f"llm_base_url: {value!r} is not an http(s) URL (empty: the environment's)")
    if key == "sql_max_result_bytes" and value < 1000:
        raise UsageError("sql_max_result_bytes must be at least 1000")
    if key in ("admins", "analysts", "metadata_allowlist", "redact_patterns", "reviewer_hidden_fields",
               "report_fields") and not all(
            isinstance(v, str) and v.strip() for v in value):
        raise UsageError(f"{key}: every item must be a non-empty string, got {value!r}")
    if key == "redact_patterns":
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as e:
                raise UsageError(f"redact_patterns: {pattern!r} is not a regular expression ({e})") from e
    if key == "cost_scenario":
        _check_cost_scenario(value)
    if key in ("price_table", "batch_price_table"):
        for model, price in value.items():
            if not (isinstance(price, dict) and set(price) <= {"input_per_mtok", "output_per_mtok"}
                    and all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                            for v in price.values())):
                raise UsageError(
                    f"{key}: {model!r} must map to {{\"input_per_mtok\": USD, "
                    f"\"output_per_mtok\": USD}} with numbers ≥ 0, got {price!r}")


def _check_cost_scenario(value: dict) -> None:
    unknown = sorted(set(value) - set(COST_SCENARIO_KEYS))
    if unknown:
        raise UsageError(f"cost_scenario: unknown key(s) {', '.join(unknown)}; known: "
                         f"{', '.join(COST_SCENARIO_KEYS)}")
    for k, v in value.items():
        kind = COST_SCENARIO_KEYS[k]
        if kind is str:
            if not (isinstance(v, str) and v.strip()):
                raise UsageError(f"cost_scenario: {k} must be a model name, got {v!r}")
            continue
        if not isinstance(v, kind) or isinstance(v, bool) or v < 0:
            raise UsageError(f"cost_scenario: {k} must be a number ≥ 0, got {v!r}")
    if value.get("amortize_months", 1) < 1:
        raise UsageError("cost_scenario: amortize_months must be at least 1")


def get_setting(db: Database, key: str) -> Any:
    """The current value of a setting: its latest row, else its default."""
    spec = _spec(key)
    row = db.con.execute(
        "SELECT value FROM settings WHERE key = ? ORDER BY set_at DESC LIMIT 1", [key]
    ).fetchone()
    return spec.default if row is None else json.loads(row[0])


def get_settings(db: Database, *keys: str) -> dict[str, Any]:
    """Several settings in one query (the hot path reads them on every save)."""
    for key in keys:
        _spec(key)
    rows = db.con.execute(
        "SELECT key, arg_max(value, set_at) FROM settings WHERE list_contains(?, key) GROUP BY key",
        [list(keys)]).fetchall()
    stored = {k: json.loads(v) for k, v in rows}
    return {k: stored.get(k, SETTINGS[k].default) for k in keys}


def all_settings(db: Database) -> dict[str, Any]:
    """Every known setting with its current value."""
    rows = db.con.execute(
        "SELECT key, arg_max(value, set_at) FROM settings GROUP BY key").fetchall()
    stored = {k: json.loads(v) for k, v in rows}
    return {k: stored.get(k, spec.default) for k, spec in SETTINGS.items()}


def set_setting(db: Database, key: str, value: Any, set_by: str | None) -> Any:
    """Append a new value for a setting (validated); returns the stored value."""
    value = coerce_setting(key, value)
    con = db.con
    with db.transaction():  # through transaction(): the snapshot follows commits
        con.execute(
            "INSERT INTO settings VALUES (?, ?, ?, ?)", [key, json.dumps(value), set_by, utcnow()]
        )
    return value


def settings_history(db: Database, key: str | None = None) -> list[SettingChange]:
    """Who changed what and when, newest first."""
    rows = db.con.execute(
        "SELECT key, value, set_by, set_at FROM settings WHERE ? IS NULL OR key = ? "
        "ORDER BY set_at DESC", [key, key]
    ).fetchall()
    return [SettingChange(k, json.loads(v), by, at) for k, v, by, at in rows]


def setting_is_set(db: Database, key: str) -> bool:
    """Whether anyone has stored a value for this setting (else its default is in force)."""
    _spec(key)
    return db.con.execute("SELECT 1 FROM settings WHERE key = ? LIMIT 1", [key]).fetchone() is not None
