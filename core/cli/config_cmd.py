"""`triage config get|set|list`: the settings table."""

from __future__ import annotations

import argparse
import json

from core.admin import change_setting
from core.cli.common import acting_user, add_command, reading_database
from core.config import Settings
from core.store.connection import connect
from core.store.settings import SETTINGS, all_settings, get_setting


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "config", "Read or change settings (append-only; latest wins).",
                    "triage config set overlap_share 0.25")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    g = csub.add_parser("get", help="print one setting's current value")
    g.add_argument("key", choices=sorted(SETTINGS), metavar="KEY")
    g.set_defaults(func=_get)
    s = csub.add_parser("set", help="set a setting (JSON for lists, numbers, objects)")
    s.add_argument("key", choices=sorted(SETTINGS), metavar="KEY")
    s.add_argument("value")
    s.set_defaults(func=_set)
    ls = csub.add_parser("list", help="every setting, its value and meaning")
    ls.set_defaults(func=_list)


def _get(args: argparse.Namespace, settings: Settings) -> int:
    with reading_database(settings) as db:
        print(json.dumps(get_setting(db, args.key)))
    return 0


def _set(args: argparse.Namespace, settings: Settings) -> int:
    # The same rules as the Settings page: admins only, no lock-out, a taxonomy that exists.
    with connect(settings.db_path) as db:
        value = change_setting(db, args.key, args.value, acting_user(settings))
    print(f"{args.key} = {json.dumps(value)}")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    with reading_database(settings) as db:
        for key, value in all_settings(db).items():
            print(f"{key} = {json.dumps(value)}\n    {SETTINGS[key].meaning}")
    return 0
