"""Admin actions: who may change settings, archiving batches, switching the taxonomy.

When the `admins` setting is empty everyone is an admin (a fresh install must be usable);
once it names someone, only those names may change settings or run admin actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import PermissionDenied, UsageError
from core.store.admin import list_batches, log_admin_action, set_batch_archived
from core.store.categories import register_taxonomy
from core.store.connection import Database
from core.store.settings import coerce_setting, get_setting, set_setting
from core.taxonomy import (
    TAXONOMY_DIR,
    Taxonomy,
    available_taxonomies,
    load_taxonomy,
    parse_taxonomy,
)

MIXED_TAXONOMY_WARNING = (
    "The report uses one taxonomy and warns when the labels come from mixed taxonomy versions. "
    "Switch before labeling starts, or expect the labels made so far to need relabeling.")


def admins(db: Database) -> list[str]:
    """The names allowed to run admin actions (empty: everyone)."""
    return [str(a) for a in get_setting(db, "admins")]


def is_admin(db: Database, user: str) -> bool:
    """Whether `user` may change settings and run admin actions."""
    names = admins(db)
    return not names or user in names


def require_admin(db: Database, user: str, action: str) -> None:
    """Raise PermissionDenied, naming the admins, unless `user` may do `action`."""
    if not is_admin(db, user):
        raise PermissionDenied(
            f"{user!r} may not {action}: only admins can ({', '.join(admins(db))}). "
            "Ask one of them, or to add your name to the `admins` setting.")


def change_setting(db: Database, key: str, value: Any, user: str) -> Any:
    """Set a setting as `user` (admins only, validated). Refuses an `admins` list that would
    lock the person changing it out, and routes `active_taxonomy` through switch_taxonomy."""
    require_admin(db, user, f"change the setting {key!r}")
    value = coerce_setting(key, value)  # text from the CLI becomes the typed value first
    if key == "active_taxonomy":
        return switch_taxonomy(db, str(value), user).name
    if key == "admins" and isinstance(value, list) and value and user not in value:
        raise UsageError(
            f"admins: {value!r} does not include you ({user!r}); you would lock yourself out. "
            "Add your own name to the list.")
    return set_setting(db, key, value, user)


def archive_batch(db: Database, batch_id: str, user: str) -> int:
    """Archive a batch: its transcripts stay in the database but leave queues and the report."""
    require_admin(db, user, "archive a batch")
    return set_batch_archived(db, batch_id, True, user)


def restore_batch(db: Database, batch_id: str, user: str) -> int:
    """Undo archive_batch: the batch's transcripts are active again."""
    require_admin(db, user, "restore a batch")
    return set_batch_archived(db, batch_id, False, user)


def switch_taxonomy(db: Database, name: str, user: str) -> Taxonomy:
    """Make `name` the active taxonomy (validated, its categories registered), logged."""
    require_admin(db, user, "switch the taxonomy")
    known = available_taxonomies()
    if name not in known:
        raise UsageError(f"unknown taxonomy {name!r}; available: {', '.join(sorted(known))}")
    before = get_setting(db, "active_taxonomy")
    taxonomy = load_taxonomy(name)
    register_taxonomy(db, taxonomy)
    set_setting(db, "active_taxonomy", name, user)
    log_admin_action(db, "switch_taxonomy", name,
                     {"from": before, "version": taxonomy.version}, user)
    return taxonomy


def use_taxonomy_file(db: Database, path: Path, user: str) -> Taxonomy:
    """Install a taxonomy file (validated) into taxonomies/ as `<its name>.toml` and make it
    active, recorded like any switch. Refuses to replace a different file of that name."""
    require_admin(db, user, "switch the taxonomy")
    taxonomy = parse_taxonomy(path)
    target = TAXONOMY_DIR / f"{taxonomy.name}.toml"
    content = path.read_bytes()
    if target.exists() and target.resolve() != path.resolve() and target.read_bytes() != content:
        raise UsageError(
            f"{target} already holds a different taxonomy named {taxonomy.name!r}: change `name` "
            f"in {path.name} (and the file name to match), or switch to the installed one")
    if not target.exists():
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(content)
        tmp.replace(target)
    return switch_taxonomy(db, taxonomy.name, user)


__all__ = ["MIXED_TAXONOMY_WARNING", "admins", "archive_batch", "change_setting", "is_admin",
           "list_batches", "require_admin", "restore_batch", "switch_taxonomy",
           "use_taxonomy_file"]
