"""Who sees which metadata field: the one home of the rule.

- `reviewer_hidden_fields` (setting): key-name patterns never shown on the reviewers' pages
  (Annotate and Adjudicate, whoever looks; Browse shows them to admins only). The default hides
  every key whose name suggests an outcome (reward, score, success, label, gold, outcome,
  expected, judge, eval): the answer sheet must not sit beside the exam.
- `report_fields` (setting): the keys the exported report may print beside each example
  (default none: leadership gets counts and examples, not per-transcript metadata).

A pattern is a key name or a glob (`*` any run of characters, `?` one), matched without regard
to case against every key, nested keys included: a hidden key inside a shown one is dropped
too. The rule applies when a page draws or a report is built, so it holds whatever the import
path and whenever the setting changes."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.admin import is_admin
from core.store.connection import Database
from core.store.settings import get_setting


def matches(key: str, patterns: Iterable[str]) -> bool:
    """Whether a metadata key matches one of the patterns (case-insensitive glob)."""
    name = str(key).casefold()
    return any(fnmatch.fnmatchcase(name, p.casefold()) for p in patterns)


def without_fields(metadata: Mapping[str, Any], patterns: Sequence[str]) -> dict[str, Any]:
    """The metadata less every key (at any depth) that matches a pattern."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if matches(key, patterns):
            continue
        out[key] = _strip(value, patterns)
    return out


def _strip(value: Any, patterns: Sequence[str]) -> Any:
    if isinstance(value, Mapping):
        return without_fields(value, patterns)
    if isinstance(value, list):
        return [_strip(v, patterns) for v in value]
    return value


def hidden_patterns(db: Database) -> list[str]:
    """The current `reviewer_hidden_fields` patterns."""
    return [str(p) for p in get_setting(db, "reviewer_hidden_fields")]


def reviewer_metadata(db: Database, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """What the Annotate and Adjudicate pages may draw of a transcript's metadata, for every
    viewer: the metadata less the `reviewer_hidden_fields` keys."""
    return without_fields(metadata or {}, hidden_patterns(db))


def visible_field_names(db: Database, user: str, names: Iterable[str]) -> list[str]:
    """Of these metadata field names, those `user` may see on Browse: all of them for an
    admin, the ones `reviewer_hidden_fields` does not match for anyone else."""
    names = list(names)
    if is_admin(db, user):
        return names
    patterns = hidden_patterns(db)
    return [n for n in names if not matches(n, patterns)]


def hidden_among(db: Database, keys: Iterable[str]) -> list[str]:
    """Which of these keys reviewers do not see (the Import page lists them), sorted."""
    patterns = hidden_patterns(db)
    return sorted({k for k in keys if matches(k, patterns)})


def metadata_keys(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The top-level metadata keys of some transcript records (e.g. an import's preview)."""
    return sorted({str(k) for r in records for k in (r.get("metadata") or {})})


def report_metadata(metadata: Mapping[str, Any], allowed: Sequence[str]) -> dict[str, Any]:
    """What the exported report prints of an example's metadata: only the top-level keys
    `report_fields` allows (none by default), with their values."""
    return {k: v for k, v in (metadata or {}).items() if matches(k, allowed)}


def check_queue_field(db: Database, field: str | None) -> None:
    """A queue filtered on a hidden field would tell reviewers its value: refuse it."""
    from core.errors import UsageError

    if field and matches(field, hidden_patterns(db)):
        raise UsageError(
            f"{field!r} is hidden from reviewers (setting reviewer_hidden_fields): a queue "
            "filtered on it would give its value away. Filter on another field.")
