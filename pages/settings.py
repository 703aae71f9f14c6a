"""Settings: every key with its meaning and current value, editable by admins; the history."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from core.admin import admins, change_setting, is_admin
from core.errors import TriageError
from core.store.settings import SETTINGS, SettingSpec, all_settings, settings_history
from core.taxonomy import available_taxonomies
from core.ui import bootstrap

ctx = bootstrap("Settings")


def _widget(key: str, spec: SettingSpec, value: Any, disabled: bool) -> Any:
    """The input that fits the setting's type; JSON text for lists and dicts."""
    label, wkey = f"New value of {key}", f"setting_value_{key}"
    if key == "active_taxonomy":
        names = sorted(available_taxonomies())
        index = names.index(value) if value in names else 0
        return st.selectbox(label, names, index=index, key=wkey, disabled=disabled)
    if spec.choices:
        return st.selectbox(label, spec.choices, index=spec.choices.index(value), key=wkey,
                            disabled=disabled)
    if spec.kind is bool:
        return st.toggle(label, value=bool(value), key=wkey, disabled=disabled)
    if spec.kind is float:
        upper = 1.0 if key == "overlap_share" else None
        return st.number_input(label, min_value=0.0, max_value=upper, value=float(value),
                               step=0.05, key=wkey, disabled=disabled)
    if spec.kind is int:
        return st.number_input(label, min_value=0, value=int(value), step=1, key=wkey,
                               disabled=disabled)
    if spec.kind is str:
        return st.text_input(label, value=str(value), key=wkey, disabled=disabled)
    return st.text_area(label, value=json.dumps(value, indent=2, ensure_ascii=False),
                        key=wkey, disabled=disabled, height=68 if not value else 160,
                        help="JSON: a list like [\"ann\", \"bob\"] or an object {...}")


def _setting_form(key: str, spec: SettingSpec, value: Any, editable: bool) -> None:
    with st.form(f"setting_{key}", border=True):
        st.markdown(f"**`{key}`** — {spec.meaning}")
        shown = json.dumps(value, ensure_ascii=False)
        st.caption(f"Current value: `{shown}` · default: `{json.dumps(spec.default)}`")
        new = _widget(key, spec, value, disabled=not editable)
        if st.form_submit_button(f"Save {key}", disabled=not editable):
            try:
                stored = change_setting(ctx.db, key, new, ctx.user)
            except TriageError as e:
                st.error(f"{key}: not saved. {e}")
            else:
                st.session_state["settings_saved"] = f"Saved {key} = {json.dumps(stored)}"
                st.rerun()


def _permissions_notice(editable: bool) -> None:
    names = admins(ctx.db)
    if not names:
        st.info("No admins are set, so **everyone** may change settings and run admin actions. "
                "Put names in `admins` to restrict this.")
    elif editable:
        st.caption(f"You are an admin. Admins: {', '.join(names)}.")
    else:
        st.warning(f"Only admins ({', '.join(names)}) may change settings. You are "
                   f"{ctx.user!r}: the values below are read-only.")


def _history() -> None:
    st.subheader("History")
    st.caption("Every change is a new row (the latest per key wins); nothing is overwritten.")
    rows = [{"when (UTC)": c.set_at, "who": c.set_by, "setting": c.key,
             "value": json.dumps(c.value, ensure_ascii=False)} for c in settings_history(ctx.db)]
    if rows:
        st.dataframe(rows, hide_index=True, key="settings_history")
    else:
        st.caption("No changes yet: every setting has its default.")


st.title("Settings")
if message := st.session_state.pop("settings_saved", None):
    st.success(message)
editable = is_admin(ctx.db, ctx.user)
_permissions_notice(editable)
current = all_settings(ctx.db)
for setting_key, setting_spec in SETTINGS.items():
    _setting_form(setting_key, setting_spec, current[setting_key], editable)
_history()
