"""Taxonomy files (taxonomies/*.toml): categories, fix classes, decision thresholds."""

from __future__ import annotations

import functools
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import TaxonomyError

TAXONOMY_DIR = Path(__file__).resolve().parent.parent / "taxonomies"
FIX_CLASSES = ("pipeline", "behavior", "model", "unknown", "none")
# `unknown`: not decided yet ("Other — describe it", a category found by `triage discover` whose
# fix class nobody chose). The report counts such failures as failures, as neither pipeline nor
# behavior, and says so.
UNKNOWN_FIX_CLASS = "unknown"
OTHER_KEY = "other"
DECISION_DEFAULTS: dict[str, float] = {
    "tuned_category_min_share": 0.2,
    "min_examples_per_tuned_category": 100,
    "min_alpha": 0.6,
    "min_double_labeled": 30,
    "min_context_present_share": 0.5,
    # Below this share of behavior failures with "context present" answered (yes / no), the
    # readiness check does not report a share: too many are unknown.
    "min_context_answered_share": 0.8,
    "min_top_behavior_share": 0.5,
    # The red flags that make tuning fail (issue 20); stricter checks above still apply.
    "red_flag_min_examples": 50,
    "red_flag_disagreement": 0.10,
    "red_flag_moving_target_p": 0.05,
}
COUNT_KEYS = {"min_examples_per_tuned_category", "min_double_labeled", "red_flag_min_examples"}


class _CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    fix_class: str
    definition: str = Field(min_length=1)
    not_this_when: str = Field(min_length=1)
    examples: list[str] = Field(min_length=1, max_length=3)
    typical_fix: str = Field(min_length=1)
    shortcut: str | None = Field(default=None, min_length=1, max_length=1)
    hallucination: bool = False

    @field_validator("fix_class")
    @classmethod
    def _known_fix_class(cls, v: str) -> str:
        if v not in FIX_CLASSES:
            raise ValueError(f"unknown fix class {v!r}; use one of {', '.join(FIX_CLASSES)}")
        return v


class _TaxonomyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    decision: dict[str, float] = {}
    categories: list[_CategoryIn] = Field(min_length=2)


@dataclass(frozen=True)
class Category:
    """One failure mode: what it is, what it is not, and how it is usually fixed."""

    key: str
    name: str
    fix_class: str
    definition: str
    not_this_when: str
    examples: tuple[str, ...]
    typical_fix: str
    shortcut: str
    hallucination: bool = False  # a failure tuning does not reliably prevent: ground with retrieval


@dataclass(frozen=True)
class Taxonomy:
    """A validated taxonomy. `version` is the content hash of its file."""

    name: str
    title: str
    description: str
    version: str
    categories: tuple[Category, ...]
    decision: dict[str, float]
    path: Path

    @functools.cached_property
    def keys(self) -> list[str]:
        # Cached (the taxonomy is frozen): the report tests membership once per label.
        return [c.key for c in self.categories]

    @functools.cached_property
    def _by_key(self) -> dict[str, Category]:
        return {c.key: c for c in self.categories}

    def category(self, key: str) -> Category:
        if (c := self._by_key.get(key)) is not None:
            return c
        raise KeyError(key)

    def fix_class(self, key: str) -> str:
        return self.category(key).fix_class

    def name_of(self, key: str) -> str:
        """What to show for a label key: its category's name, or the key itself when this
        taxonomy does not know it (a label made under another taxonomy, a model's typo)."""
        for c in self.categories:
            if c.key == key:
                return c.name
        return key

    @property
    def none_key(self) -> str:
        """The one category whose fix class is none (no failure)."""
        return next(c.key for c in self.categories if c.fix_class == "none")

    @property
    def unknown_keys(self) -> list[str]:
        """Categories whose fix class is not decided yet (counted as neither pipeline nor behavior)."""
        return [c.key for c in self.categories if c.fix_class == UNKNOWN_FIX_CLASS]

    @property
    def discovery_mode(self) -> bool:
        """True when no failure category has a fix class yet (e.g. only `other` and
        `no_failure`): reviewers describe failures in notes, `triage discover` groups them."""
        return all(c.fix_class in (UNKNOWN_FIX_CLASS, "none") for c in self.categories)


def _where(loc: tuple, data: dict) -> str:
    """('categories', 3, 'definition') → "category 'reasoning' (#4): definition"."""
    if len(loc) >= 2 and loc[0] == "categories" and isinstance(loc[1], int):
        cats = data.get("categories")
        item = cats[loc[1]] if isinstance(cats, list) and loc[1] < len(cats) else None
        key = item.get("key") if isinstance(item, dict) else None
        rest = ".".join(str(x) for x in loc[2:])
        name = f"category {key!r} (#{loc[1] + 1})" if key else f"category #{loc[1] + 1}"
        return f"{name}: {rest}" if rest else name
    return ".".join(str(x) for x in loc)


def _format_validation(path: Path, err: ValidationError, data: dict) -> str:
    parts = []
    for e in err.errors(include_url=False):
        msg = "missing (required)" if e["type"] == "missing" else e["msg"].removeprefix("Value error, ")
        parts.append(f"{_where(tuple(e['loc']), data)}: {msg}")
    return f"{path.name}: " + "; ".join(parts)


# Reserved by Streamlit for its own shortcuts (C clears the cache, R reruns). A taxonomy file
# may not use them; core/labels/keys.py keeps every page key off them too.
RESERVED_SHORTCUTS = {"c", "r"}


def _check_consistency(path: Path, t: _TaxonomyIn) -> None:
    keys = [c.key for c in t.categories]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise TaxonomyError(f"{path.name}: duplicate category keys: {', '.join(dupes)}")
    nones = [c.key for c in t.categories if c.fix_class == "none"]
    if len(nones) != 1:
        raise TaxonomyError(
            f"{path.name}: exactly one category must have fix_class = \"none\" (found {len(nones)})"
        )
    unknown = sorted(set(t.decision) - set(DECISION_DEFAULTS))
    if unknown:
        raise TaxonomyError(
            f"{path.name}: unknown [decision] keys {', '.join(unknown)}; "
            f"known: {', '.join(DECISION_DEFAULTS)}"
        )
    _check_decision(path, t.decision)
    shortcuts = [(c.shortcut or "").lower() for c in t.categories if c.shortcut]
    clash = sorted({s for s in shortcuts if shortcuts.count(s) > 1} | (set(shortcuts) & RESERVED_SHORTCUTS))
    if clash:
        raise TaxonomyError(f"{path.name}: shortcut keys reused or reserved: {', '.join(clash)}")


def _check_decision(path: Path, decision: dict[str, float]) -> None:
    """Shares and alpha lie in [0, 1]; counts are at least 1."""
    for key, value in decision.items():
        is_count = key in COUNT_KEYS
        if (is_count and value < 1) or (not is_count and not 0 <= value <= 1):
            bound = "at least 1" if is_count else "between 0 and 1"
            raise TaxonomyError(f"{path.name}: [decision] {key} = {value} must be {bound}")


def _default_shortcuts(cats: list[_CategoryIn]) -> list[str]:
    """Digits 1–9 then 0 for categories without an explicit shortcut, skipping used keys."""
    used = {c.shortcut for c in cats if c.shortcut}
    free = [d for d in "1234567890" if d not in used]
    out = []
    for c in cats:
        out.append(c.shortcut or (free.pop(0) if free else ""))
    return out


def parse_taxonomy(path: Path) -> Taxonomy:
    """Load and validate one taxonomy file; TaxonomyError says what is wrong and where."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise TaxonomyError(f"cannot read taxonomy {path}: {e.strerror}") from e
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise TaxonomyError(f"{path.name}: not valid TOML: {e}") from e
    try:
        t = _TaxonomyIn.model_validate(data)
    except ValidationError as e:
        raise TaxonomyError(_format_validation(path, e, data)) from e
    _check_consistency(path, t)
    cats = tuple(
        Category(c.key, c.name, c.fix_class, c.definition.strip(), c.not_this_when.strip(),
                 tuple(c.examples), c.typical_fix.strip(), s, c.hallucination)
        for c, s in zip(t.categories, _default_shortcuts(t.categories), strict=True)
    )
    version = hashlib.sha256(raw).hexdigest()[:12]
    decision = {**DECISION_DEFAULTS, **t.decision}
    return Taxonomy(t.name, t.title or t.name, t.description, version, cats, decision, path)


@dataclass(frozen=True)
class TaxonomyCheck:
    """What `triage taxonomy check` reports: the taxonomy when it loads, else the errors;
    warnings never stop it from loading."""

    path: Path
    taxonomy: Taxonomy | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def taxonomy_warnings(taxonomy: Taxonomy) -> list[str]:
    """What is allowed but worth saying: categories whose fix class is still unknown."""
    unknown = taxonomy.unknown_keys
    if not unknown:
        return []
    what = ("discovery mode: no failure category has a fix class yet"
            if taxonomy.discovery_mode else f"{len(unknown)} categories have fix class unknown")
    return [f"{what} ({', '.join(unknown)}): the report counts their failures as neither "
            "pipeline nor behavior, so they can only delay a verdict; choose a fix class when "
            "you know it"]


def check_taxonomy(path: Path) -> TaxonomyCheck:
    """Validate a taxonomy file anywhere on disk without raising: errors and warnings."""
    try:
        taxonomy = parse_taxonomy(path)
    except TaxonomyError as e:
        return TaxonomyCheck(path, None, (str(e),), ())
    return TaxonomyCheck(path, taxonomy, (), tuple(taxonomy_warnings(taxonomy)))


def available_taxonomies(directory: Path = TAXONOMY_DIR) -> dict[str, Path]:
    """Taxonomy name (the file stem) → file, for every taxonomies/*.toml."""
    return {p.stem: p for p in sorted(directory.glob("*.toml"))}


def load_taxonomy(name: str = "default", directory: Path = TAXONOMY_DIR) -> Taxonomy:
    """The taxonomy called `name` (taxonomies/<name>.toml)."""
    files = available_taxonomies(directory)
    if name not in files:
        raise TaxonomyError(
            f"no taxonomy named {name!r}; available: {', '.join(files) or 'none'} (in {directory})"
        )
    t = parse_taxonomy(files[name])
    if t.name != name:
        raise TaxonomyError(f"{files[name].name}: name = {t.name!r} must match the file name {name!r}")
    return t
