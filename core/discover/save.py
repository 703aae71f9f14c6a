"""Draft categories → a taxonomy TOML file in the format of taxonomies/*.toml: keys, names,
definitions, not_this_when, up to three real notes as examples, fix classes, shortcuts, the
current taxonomy's [decision] block, `other` for notes that still fit nothing, `no_failure`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from core.discover.axial import OTHER_DEFINITION, TYPICAL_FIX_PLACEHOLDER, Draft
from core.errors import UsageError
from core.taxonomy import OTHER_KEY, UNKNOWN_FIX_CLASS, Category, Taxonomy

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")


def _s(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def _category(key: str, name: str, fix_class: str, definition: str, not_this_when: str,
              examples: list[str], typical_fix: str, shortcut: str | None) -> list[str]:
    lines = ["[[categories]]", f"key = {_s(key)}", f"name = {_s(name)}",
             f"fix_class = {_s(fix_class)}"]
    if shortcut:
        lines.append(f"shortcut = {_s(shortcut)}")
    lines += [f"definition = {_s(definition)}", f"not_this_when = {_s(not_this_when)}",
              "examples = [", *(f"    {_s(e)}," for e in examples), "]",
              f"typical_fix = {_s(typical_fix)}", ""]
    return lines


def _examples(d: Draft, texts: dict[str, str]) -> list[str]:
    out: list[str] = []
    for m in d.member_ids:
        text = " ".join(texts[m].split())[:400]
        if text and text not in out:
            out.append(text)
        if len(out) == 3:
            break
    return out or [d.name]


def _kept(base: Taxonomy, key: str, fallback: Category) -> Category:
    return base.category(key) if key in base.keys else fallback


def taxonomy_toml(drafts: list[Draft], texts: dict[str, str], base: Taxonomy, name: str,
                  title: str = "", n_notes: int = 0, method: str = "") -> str:
    """The taxonomy file's text. `base` gives [decision], `no_failure` and `other` as they are."""
    if not NAME_RE.match(name):
        raise UsageError(f"taxonomy name {name!r}: use lower case letters, digits, _ and -")
    if not drafts:
        raise UsageError("no categories to save: keep at least one cluster")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    out = [f"# Made by triage discover on {stamp} from {n_notes} notes ({method}).",
           f"# Base: {base.name}@{base.version}. Check it with `triage taxonomy check`.", "",
           f"name = {_s(name)}", f"title = {_s(title or name)}",
           f"description = {_s('Failure modes found in the team’s own notes (open and axial coding).')}",
           "", "[decision]", *(f"{k} = {v:g}" for k, v in base.decision.items()), ""]
    reserved = {OTHER_KEY, base.none_key}
    for i, d in enumerate(drafts):
        key = f"{d.key}_group" if d.key in reserved else d.key  # never shadows the two kept
        out += _category(key, d.name, d.fix_class, d.definition, d.not_this_when,
                         _examples(d, texts), TYPICAL_FIX_PLACEHOLDER,
                         str(i + 1) if i < 9 else None)
    other = _kept(base, OTHER_KEY, Category(
        OTHER_KEY, "Other — describe it", UNKNOWN_FIX_CLASS, OTHER_DEFINITION,
        "One of the categories above fits.", ("Describe what went wrong in your own words.",),
        "Not known yet: run discovery again on these notes.", ""))
    none = base.category(base.none_key)
    for c, shortcut in ((other, None), (none, "0")):
        out += _category(c.key, c.name, c.fix_class, c.definition, c.not_this_when,
                         list(c.examples), c.typical_fix, shortcut)
    return "\n".join(out)


def save_taxonomy(path: Path, text: str) -> Path:
    """Write the file whole (a temp file, then rename: never half a taxonomy)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def install_and_use(db, text: str, name: str, user: str):
    """Admins: write the taxonomy text into taxonomies/ and make it active (the page's
    "Save and use"); returns the active Taxonomy."""
    import tempfile

    from core.admin import use_taxonomy_file

    with tempfile.TemporaryDirectory() as tmp:
        path = save_taxonomy(Path(tmp) / f"{name}.toml", text)
        return use_taxonomy_file(db, path, user)
