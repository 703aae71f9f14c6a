"""`triage taxonomy list|show|check|use`: the taxonomy files, one checked, one made active."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.admin import switch_taxonomy, use_taxonomy_file
from core.cli.common import acting_user, add_command, reading_database
from core.config import Settings
from core.errors import NotFound, TriageError
from core.store.connection import connect
from core.store.settings import SETTINGS, get_setting
from core.taxonomy import (
    Taxonomy,
    available_taxonomies,
    check_taxonomy,
    load_taxonomy,
    parse_taxonomy,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "taxonomy", "List, show, check or switch taxonomies.",
                    "triage taxonomy check found.toml && triage taxonomy use found.toml")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    tsub.add_parser("list", help="the installed taxonomies; * marks the active one").set_defaults(func=_list)
    s = tsub.add_parser("show", help="a taxonomy's categories (default: the active one)")
    s.add_argument("name", nargs="?", metavar="NAME|FILE")
    s.set_defaults(func=_show)
    c = tsub.add_parser("check", help="validate a taxonomy file (no database needed)")
    c.add_argument("file", type=Path, metavar="FILE")
    c.set_defaults(func=_check)
    u = tsub.add_parser("use", help="admins: install a taxonomy file (or name) and make it active")
    u.add_argument("file", metavar="FILE|NAME")
    u.set_defaults(func=_use)


def _active(settings: Settings) -> str:
    """The active taxonomy's name; the default when there is no database yet."""
    try:
        with reading_database(settings) as db:
            return str(get_setting(db, "active_taxonomy"))
    except NotFound:
        return str(SETTINGS["active_taxonomy"].default)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    active = _active(settings)
    for name, path in available_taxonomies().items():
        try:
            t = parse_taxonomy(path)
            about = f"{t.title} ({len(t.categories)} categories, version {t.version})"
        except TriageError as e:  # a broken file is listed with its problem, not fatal
            about = f"INVALID: {e}"
        print(f"{'*' if name == active else ' '} {name:<16} {about}")
    return 0


def _load(name: str | None, settings: Settings) -> Taxonomy:
    if name and (name.endswith(".toml") or Path(name).is_file()):
        return parse_taxonomy(Path(name))
    return load_taxonomy(name or _active(settings))


def _show(args: argparse.Namespace, settings: Settings) -> int:
    t = _load(args.name, settings)
    print(f"{t.name} · {t.title} · version {t.version}"
          + (" · discovery mode" if t.discovery_mode else ""))
    for c in t.categories:
        print(f"  [{c.shortcut or ' '}] {c.key:<28} {c.fix_class:<9} {c.name}")
        print(f"      {c.definition[:150]}")
    print("  decision: " + ", ".join(f"{k} = {v:g}" for k, v in t.decision.items()))
    return 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    result = check_taxonomy(args.file)
    for e in result.errors:
        print(f"error: {e}")
    for w in result.warnings:
        print(f"warning: {w}")
    if result.taxonomy is None:
        return 2
    t = result.taxonomy
    print(f"{args.file.name}: valid taxonomy {t.name!r}, {len(t.categories)} categories, "
          f"version {t.version}")
    return 0


def _use(args: argparse.Namespace, settings: Settings) -> int:
    user = acting_user(settings)
    with connect(settings.db_path) as db:
        path = Path(args.file)
        if path.suffix == ".toml" or path.is_file():
            t = use_taxonomy_file(db, path, user)
        else:
            t = switch_taxonomy(db, args.file, user)
    print(f"active taxonomy: {t.name} (version {t.version}, {len(t.categories)} categories)")
    return 0
