"""Roles and admin actions: who may open which page and do what, archiving batches,
switching the taxonomy.

Roles (the one rule, used by navigation, every page's bootstrap and the CLI):
- reviewer (everyone, the default): Home, Annotate, Browse (hidden fields hidden), Report.
- analyst (the `analysts` setting): adds SQL with the exports, and Adjudicate (it shows both
  reviewers' labels, so not for the reviewers who disagree).
- admin (the `admins` setting): adds Import, Pre-label runs, Settings, Admin, Discover.
A fresh install names no admins, and then everyone is an admin (one person on a laptop must be
able to start); once `admins` names someone, the roles hold. `analysts` can only be set once
`admins` is. A name marked unverified (typed into an app shared without OIDC) is a reviewer,
whatever the settings say."""

from __future__ import annotations

import json
import shlex
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


ROLES = ("reviewer", "analyst", "admin")
UNVERIFIED = " (unverified)"
# The least role that may open each page (by its url path; "" is Home).
PAGE_ROLES: dict[str, str] = {
    "home": "reviewer", "annotate": "reviewer", "browse": "reviewer", "report": "reviewer",
    "sql": "analyst", "adjudicate": "analyst",
    "import": "admin", "discover": "admin", "prelabel": "admin", "settings": "admin", "admin": "admin"}


def mark_unverified(name: str) -> str:
    """A typed name on an app shared without OIDC: marked wherever it shows, never trusted."""
    return name if name.endswith(UNVERIFIED) else f"{name}{UNVERIFIED}"


def is_verified(user: str) -> bool:
    """Whether `user` is a name the app may trust with roles (not marked unverified)."""
    return not user.endswith(UNVERIFIED)


def analysts(db: Database) -> list[str]:
    """The names given the analyst role (the SQL page, exports, Adjudicate, Discover)."""
    return [str(a) for a in get_setting(db, "analysts")]


def role_of(db: Database, user: str) -> str:
    """The role of `user`: reviewer, analyst or admin (see the module docstring)."""
    if not is_verified(user):
        return "reviewer"
    names = admins(db)
    if not names or user in names:
        return "admin"
    return "analyst" if user in analysts(db) else "reviewer"


def may_open(role: str, page: str) -> bool:
    """Whether `role` may open the page at url path `page` (unknown pages: admins only)."""
    need = PAGE_ROLES.get(page, "admin")
    return ROLES.index(role) >= ROLES.index(need)


def has_role(db: Database, user: str, role: str) -> bool:
    """Whether `user` holds `role` or a higher one."""
    return ROLES.index(role_of(db, user)) >= ROLES.index(role)


def how_to_ask(db: Database, user: str, role: str) -> str:
    """Who may give `user` the role, and how."""
    setting = "admins" if role == "admin" else "analysts"
    if not is_verified(user):
        return ("This app is shared without a login (OIDC), so typed names are unverified and "
                "hold no analyst or admin powers. Ask the person running it to turn on OIDC "
                "(README: \"Sharing the app\"), or use Triage on your own machine.")
    names = admins(db) if role == "admin" else analysts(db)
    value = shlex.quote(json.dumps([*names, user]))  # the whole new list, ready to paste
    return (f"Ask an admin ({', '.join(admins(db))}) to add your name to `{setting}` (Admin "
            f"page, or `triage config set {setting} {value}`).")


def page_refusal(db: Database, user: str, page: str, title: str) -> str | None:
    """None when `user` may open the page; else who may, and how to ask."""
    role = role_of(db, user)
    if may_open(role, page):
        return None
    need = PAGE_ROLES.get(page, "admin")
    who = "admins" if need == "admin" else "analysts and admins"
    return (f"The {title} page is for {who}. You are {user!r} ({role}). "
            + how_to_ask(db, user, need))


def require_role(db: Database, user: str, role: str, action: str) -> None:
    """Raise PermissionDenied, saying who may and how to ask, unless `user` holds `role`."""
    if not has_role(db, user, role):
        who = "admins" if role == "admin" else "analysts and admins"
        raise PermissionDenied(f"{user!r} ({role_of(db, user)}) may not {action}: only {who} "
                               f"can. " + how_to_ask(db, user, role))


def admins(db: Database) -> list[str]:
    """The names allowed to run admin actions (empty: everyone)."""
    return [str(a) for a in get_setting(db, "admins")]


def is_admin(db: Database, user: str) -> bool:
    """Whether `user` may change settings and run admin actions."""
    return role_of(db, user) == "admin"


def require_admin(db: Database, user: str, action: str) -> None:
    """Raise PermissionDenied, naming the admins, unless `user` may do `action`."""
    if not is_admin(db, user):
        raise PermissionDenied(
            f"{user!r} may not {action}: only admins can ({', '.join(admins(db)) or 'none'}). "
            + how_to_ask(db, user, "admin"))


def change_setting(db: Database, key: str, value: Any, user: str) -> Any:
    """Set a setting as `user` (admins only, validated). Refuses an `admins` list that would
    lock the person changing it out, and routes `active_taxonomy` through switch_taxonomy."""
    require_admin(db, user, f"change the setting {key!r}")
    value = coerce_setting(key, value)  # text from the CLI becomes the typed value first
    if key == "active_taxonomy":
        return switch_taxonomy(db, str(value), user).name
    _check_roles_change(db, key, value, user)
    return set_setting(db, key, value, user)


def _check_roles_change(db: Database, key: str, value: Any, user: str) -> None:
    """No lock-out: an `admins` list must name its author; `analysts` needs admins first;
    no unverified name gets a role."""
    if key not in ("admins", "analysts"):
        return
    if any(not is_verified(str(v)) for v in value):
        raise UsageError(f"{key}: {value!r} holds a name marked unverified; roles go to "
                         "verified names only")
    if key == "admins" and value and user not in value:
        raise UsageError(
            f"admins: {value!r} does not include you ({user!r}); you would lock yourself out. "
            "Add your own name to the list.")
    if key == "admins" and not value and analysts(db):
        raise UsageError("admins: emptying it makes everyone an admin while `analysts` names "
                         "people; empty `analysts` first, or keep an admin")
    if key == "analysts" and value and not admins(db):
        raise UsageError("analysts: name the admins first (your own name included, "
                         "`triage config set admins '[\"you\"]'`): while `admins` is empty "
                         "everyone is an admin, so an analyst list would mean nothing")


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


__all__ = ["MIXED_TAXONOMY_WARNING", "PAGE_ROLES", "ROLES", "UNVERIFIED", "admins", "analysts",
           "archive_batch", "change_setting", "has_role", "how_to_ask", "is_admin", "is_verified",
           "list_batches", "mark_unverified", "may_open", "page_refusal", "require_admin",
           "require_role", "restore_batch", "role_of", "switch_taxonomy", "use_taxonomy_file"]
