"""The one UI-glue module: every page starts with `ctx = bootstrap("Title")`.
Nothing else in core imports this module (a test checks)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.config import Settings, load_settings
from core.errors import TriageError
from core.labels.conversation import MessageView, context_html, messages_html, page_ranges
from core.logs import setup_logging
from core.store.categories import register_taxonomy
from core.store.connection import Database, connect
from core.store.settings import get_setting
from core.store.snapshot import install_scheduler
from core.store.transcripts import Transcript
from core.taxonomy import Taxonomy, available_taxonomies, load_taxonomy

log = logging.getLogger("triage.ui")


@dataclass(frozen=True)
class AppContext:
    """What every page needs: configuration, the shared database, the taxonomy, the reviewer."""

    settings: Settings
    db: Database
    taxonomy: Taxonomy
    user: str


@st.cache_resource(show_spinner=False)
def _database(db_path: str) -> Database:
    # One connection for the whole server process; each session thread uses its own cursor.
    db = connect(db_path)
    install_scheduler(db)  # analysts: refresh the snapshot after writes (core/store/snapshot.py)
    return db


@st.cache_resource(show_spinner=False)
def _registered_taxonomy(_db: Database, db_path: str, name: str, mtime_ns: int | None) -> Taxonomy:
    # Parsed and registered once per file version, not on every rerun.
    taxonomy = load_taxonomy(name)
    register_taxonomy(_db, taxonomy)
    return taxonomy


def _taxonomy(db: Database) -> Taxonomy:
    name = get_setting(db, "active_taxonomy")
    path = available_taxonomies().get(name)
    mtime = path.stat().st_mtime_ns if path is not None else None
    return _registered_taxonomy(db, str(db.path), name, mtime)


def _identity(settings: Settings) -> str:
    """The reviewer's name: asked once per browser session; TRIAGE_USER presets it.
    With OIDC configured in secrets, the logged-in identity replaces both."""
    if (oidc := oidc_identity()) is not None:
        st.session_state["triage_user"] = oidc
        return oidc
    if st.session_state.get("triage_user"):
        return st.session_state["triage_user"]
    if settings.user:
        st.session_state["triage_user"] = settings.user
        return settings.user
    st.title("Who is reviewing?")
    st.caption("Your name is stored with every label you make, so agreement can be measured.")
    with st.form("identity"):
        name = st.text_input("Your name", max_chars=60)
        if st.form_submit_button("Start", type="primary") and name.strip():
            st.session_state["triage_user"] = name.strip()
            st.rerun()
    st.stop()
    raise AssertionError("unreachable")


def show_error(e: Exception, stop: bool = True) -> None:
    """A message for the user, the traceback for the log; then stop the page (unless told not
    to, when the page still has something to offer, such as a retry)."""
    if isinstance(e, TriageError):
        st.error(str(e))
    else:
        log.error("page error", exc_info=e)
        st.error(f"Something went wrong ({type(e).__name__}). Details are in the log.")
    if stop:
        st.stop()


def show_table(table: Any, empty: str = "None yet.") -> None:
    """A report Table (core/report/tables.py) as a dataframe: Streamlit shows cells as text,
    never HTML. A caption when it has no rows."""
    import pandas as pd

    if table.rows:
        st.dataframe(pd.DataFrame(list(table.rows), columns=list(table.headers)), hide_index=True,
                     width="stretch")
    else:
        st.caption(empty)


def show_tables(tables: Any) -> None:
    """Report Tables, each under its title."""
    for table in tables:
        st.subheader(table.title)
        show_table(table)


def _leave_pages_directory_mode() -> None:
    """A deep link that is the server's very first request runs the page through Streamlit's
    old `pages/` auto-discovery (its sidebar lists file names), because only a run of the entry
    script's st.navigation turns that mode off, process-wide. Turn it off as st.navigation
    does and rerun: the entry script then serves the same URL through PAGES."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@functools.cache
def _icon() -> Any:
    """The tab icon, drawn here: an emoji icon makes the browser fetch an image from the
    internet, and the app must work offline."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((4, 4, 60, 60), radius=14, fill=(196, 48, 64, 255))
    draw.rectangle((28, 14, 36, 50), fill="white")
    draw.rectangle((14, 28, 50, 36), fill="white")
    return img


def bootstrap(title: str, layout: str = "wide") -> AppContext:
    """Page config, settings, database, taxonomy and identity: the first line of every page."""
    _leave_pages_directory_mode()
    st.set_page_config(page_title=f"{title} · Triage", page_icon=_icon(), layout=layout)
    settings = load_settings()
    setup_logging(settings.resolved_log_path, settings.log_level)
    try:
        db = _database(str(settings.db_path))
        taxonomy = _taxonomy(db)
    except Exception as e:  # noqa: BLE001 - shown to the user, logged in full
        show_error(e)
    user = _identity(settings)
    return AppContext(settings, db, taxonomy, user)


# A constant script (no transcript text in it): Esc leaves a text field, so keys work again.
# Streamlit alone keeps the focus in the field on Esc (checked in Chromium).
_ESC_BLURS = """<script>
if (!window.__triageEscBlurs) {
  window.__triageEscBlurs = true;
  document.addEventListener("keydown", (e) => {
    const el = document.activeElement;
    if (e.key === "Escape" && el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA")) el.blur();
  }, true);
}
</script>"""


def esc_leaves_text_fields() -> None:
    """On a page labeled by keys: Esc takes the focus out of a text field."""
    st.html(_ESC_BLURS, unsafe_allow_javascript=True)


def show_conversation(t: Transcript, views: list[MessageView], pager_key: str) -> None:
    """A transcript as Annotate and Adjudicate show it: the conversation, paged when long
    (the pager is a selectbox under `pager_key`), and its retrieved context, in two tabs.
    Every transcript string is escaped by core/labels/conversation.py."""
    talk, docs = st.tabs(["Conversation", f"Context ({len(t.context or [])})"])
    with talk:
        ranges, n = page_ranges(len(views)), len(views)
        if len(ranges) > 1:
            lo, hi = st.selectbox("Messages", ranges, key=pager_key,
                                  format_func=lambda r: f"messages {r[0]}–{r[1] - 1} of {n}")
            views = views[lo:hi]
        st.html(messages_html(views))
    with docs:
        st.html(context_html(t.context))


# --- OIDC login ------------------------------------------------------------------------------
# When `.streamlit/secrets.toml` has an [auth] section, Streamlit's st.login (OIDC) identifies
# the reviewer: the typed name and TRIAGE_USER are not used.


def oidc_configured() -> bool:
    """Whether an [auth] section is in Streamlit's secrets."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: OIDC is simply off
        return False


def oidc_identity() -> str | None:
    """The logged-in user's email (else name, else subject) when OIDC is configured; shows a
    login screen and stops the page until then. None when OIDC is not configured."""
    if not oidc_configured():
        return None
    if not st.user.get("is_logged_in"):
        st.title("Log in to Triage")
        st.caption("This Triage server identifies reviewers through your organisation's login.")
        st.button("Log in", type="primary", on_click=st.login)
        st.stop()
    st.sidebar.button("Log out", on_click=st.logout)
    return str(st.user.get("email") or st.user.get("name") or st.user.get("sub"))
