"""The one UI-glue module: every page starts with `ctx = bootstrap("Title")`.
Nothing else in core imports this module (a test checks)."""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from core.admin import (
    PAGE_ROLES,
    change_setting,
    is_admin,
    mark_unverified,
    may_open,
    page_refusal,
    role_of,
)
from core.config import Settings, load_settings
from core.demo.apart import start_team_database, team_db_path
from core.errors import TriageError
from core.labels.conversation import MessageView, context_html, messages_html, page_ranges
from core.labels.fields import hidden_among, hidden_patterns
from core.labels.keyqueue import KEY_QUEUE_JS
from core.logs import setup_logging
from core.store.categories import register_taxonomy
from core.store.connection import Database, connect
from core.store.demo_rows import DemoCounts, demo_counts
from core.store.settings import get_setting
from core.store.snapshot import install_scheduler, scheduler_for
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


# The database `triage app` took before Streamlit started (core/cli/app_server.py), by path.
_HELD: dict[str, Database] = {}


def serve(db: Database, streamlit_args: list[str]) -> int:
    """Serve the app in this process on `db`, already open (its lock held); `streamlit_args`
    are `streamlit run`'s (the script first). Returns when the server stops."""
    import sys

    from streamlit.web import cli as streamlit_cli

    _HELD[str(db.path)] = db
    sys.argv = ["streamlit", "run", *streamlit_args]
    try:
        streamlit_cli.main()
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@st.cache_resource(show_spinner=False)
def _database(db_path: str) -> Database:
    # One connection for the whole server process; each session thread uses its own cursor.
    db = _HELD.pop(db_path, None) or connect(db_path)
    # Analysts: the snapshot follows writes, and is written at once (in the background, so
    # the first page does not wait; a query waits for it) when it is missing or behind
    # (core/store/snapshot.py). `triage app` started this before its server; AppTest here.
    if scheduler_for(db) is None:
        install_scheduler(db).refresh_soon(only_if_stale=True)
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


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def listening_shared() -> bool:
    """Whether this server listens beyond this machine (`triage app --host`): decided by the
    address it is bound to, not by the client's IP (a proxy hides that). Unset (AppTest, or
    `triage app` without --host, which binds 127.0.0.1) counts as this machine only."""
    address = str(st.get_option("server.address") or "").strip().strip("[]")
    return bool(address) and address not in LOOPBACK and not address.startswith("127.")


def _trusted(name: str) -> str:
    """A typed or preset name as the app records it: marked unverified on a shared app
    without OIDC (it then holds no analyst or admin powers), as typed on this machine."""
    return mark_unverified(name) if listening_shared() else name


def _identity(settings: Settings) -> str:
    """The reviewer's name: asked once per browser session; TRIAGE_USER presets it.
    With OIDC configured in secrets, the logged-in identity replaces both."""
    if (oidc := oidc_identity()) is not None:
        st.session_state["triage_user"] = oidc
        return oidc
    if st.session_state.get("triage_user"):
        return _trusted(st.session_state["triage_user"])
    if settings.user:
        st.session_state["triage_user"] = settings.user
        return _trusted(settings.user)
    st.title("Who is reviewing?")
    st.caption("Your name is stored with every label you make, so agreement can be measured.")
    if listening_shared():
        st.warning("This app is shared without a login (OIDC): names are not checked, so yours "
                   "is shown as unverified and holds no analyst or admin powers.")
    with st.form("identity"):
        name = st.text_input("Your name", max_chars=60)
        if st.form_submit_button("Start", type="primary") and name.strip():
            st.session_state["triage_user"] = name.strip()
            st.rerun()
    st.stop()
    raise AssertionError("unreachable")


# An icon given: Streamlit otherwise looks for a leading emoji in any non-ASCII text ("Saved:
# t1 → Reasoning"), and its first look loads an emoji catalog (1.5 s on a loaded machine), on
# the reviewer's first save of the server's life.
_ALERT_ICONS = {"success": ":material/check_circle:", "info": ":material/info:",
                "warning": ":material/warning:", "error": ":material/error:"}


@contextmanager
def first_reading(show: bool, text: str) -> Iterator[None]:
    """A spinner in the sidebar (shown past half a second) when `show`, else nothing. In the
    sidebar: a slot in the main area that is there on the first run only, or on every run, lost
    typed-ahead keys in Chromium (the key queue's component moved or was redrawn)."""
    if not show:
        yield
        return
    with st.sidebar, st.spinner(text):
        yield


def say(*messages: Any) -> None:
    """Each message (its `kind`: success, info, warning or error; its `text`) as an alert of
    that kind, with its icon."""
    for m in messages:
        getattr(st, m.kind)(m.text, icon=_ALERT_ICONS[m.kind])


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


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_report(_db: Database, db_path: str, version: tuple, taxonomy_id: tuple[str, str],
                   _taxonomy: Taxonomy, random_only: bool, population: bool) -> Any:
    from core.report.build import build_report  # the Report page's import, not every page's

    return build_report(_db, _taxonomy, random_only=random_only, population=population)


def cached_report(ctx: AppContext, random_only: bool, population: bool) -> Any:
    """The report as of the last write (this process's committed transactions and a
    fingerprint of the tables): built once per write and view, so a second visit to the
    Report page draws at once."""
    from core.store.report_data import inputs_version

    t = ctx.taxonomy
    version = (ctx.db.generation, *inputs_version(ctx.db))
    return _cached_report(ctx.db, str(ctx.db.path), version, (t.name, t.version), t,
                          random_only, population)


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


def app_page_config() -> None:
    """The entry script's page config, before st.navigation: the tab icon is set before the
    browser sees the navigation, whose material icons it would otherwise fetch from a public
    font host as the tab icon (the app must work offline)."""
    st.set_page_config(page_title="Triage", page_icon=_icon(), layout="wide")


def bootstrap(title: str, layout: str = "wide") -> AppContext:
    """Page config, settings, database, taxonomy and identity: the first line of every page."""
    _leave_pages_directory_mode()
    st.set_page_config(page_title=f"{title} · Triage", page_icon=_icon(), layout=layout)
    settings = served_settings()
    setup_logging(settings.resolved_log_path, settings.log_level)
    try:
        db = _database(str(settings.db_path))
        taxonomy = _taxonomy(db)
    except Exception as e:  # noqa: BLE001 - shown to the user, logged in full
        show_error(e)
    user = _identity(settings)
    _refuse_unless_allowed(db, user, title)
    _demo_mark(demo_counts(db), db.path)
    if started := st.session_state.pop("team_database_started", None):
        st.success(started)
    return AppContext(settings, db, taxonomy, user)


def page_key(title: str) -> str:
    """The page's key in the role table (core/admin.PAGE_ROLES): its url path, from its title."""
    return title.lower().replace("-", "").replace(" ", "")


def _refuse_unless_allowed(db: Database, user: str, title: str) -> None:
    """The role rule on every page, deep links included: a refused page says who may open it
    and how to ask, then stops."""
    if (refusal := page_refusal(db, user, page_key(title), title)) is not None:
        log.info("refused %r the %s page", user, title)
        st.title(title)
        st.error(refusal)
        st.stop()


def navigation_role() -> str:
    """This session's role, for the navigation (read once per run, not once per page):
    before anyone is named, the pages every reviewer has."""
    settings = served_settings()
    name = st.session_state.get("triage_user") or settings.user
    if oidc_configured():
        name = str(st.user.get("email") or st.user.get("name") or "") if st.user.get(
            "is_logged_in") else None
    try:
        return role_of(_database(str(settings.db_path)), _trusted(name)) if name else "reviewer"
    except TriageError:
        return "reviewer"


def page_visibility(url_path: str, role: str) -> str:
    """For the navigation: "visible" when `role` (navigation_role) may open the page, else
    "hidden" (still routed, so a deep link reaches the page's refusal)."""
    key = url_path or "home"
    return "visible" if key not in PAGE_ROLES or may_open(role, key) else "hidden"


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


_KEY_QUEUE: Any = None
# Streamlit 1.67 wraps a keyed container in a stLayoutWrapper exactly its own height, and
# position: sticky only moves an element within its parent: so the wrapper is made sticky,
# inside the column's block (as tall as the transcript); stMain is what scrolls. That block
# ends where the main container's bottom padding (10rem) starts: cut here so that a panel
# of max-height is never pushed up off screen at the end of a long transcript.
_STICKY_CSS = """<style>
[data-testid=stMainBlockContainer]:has(.st-key-label_panel){padding-bottom:2rem}
[data-testid=stLayoutWrapper]:has(> .st-key-label_panel){position:sticky;top:3.75rem;z-index:2}
.st-key-label_panel{max-height:calc(100vh - 7.5rem);
 overflow-y:auto;background:var(--st-background-color, #fff);padding-right:.25rem}
.st-key-label_panel > *{flex-shrink:0}
.st-key-key_queue{display:none}
</style>"""


def key_queue(s: Any) -> None:
    """Mount the Annotate session `s`'s key queue (core/labels/keyqueue.py). When keys
    arrive, before the page runs, `s.press_queued` gets those not yet applied as
    [[number, key], ...]; the browser learns the last number applied (`s.key_seq`), the
    message to bring into view (`s.scroll_to`) and a request to focus the note field."""
    global _KEY_QUEUE
    keys, acked, scroll, focus, on_keys = ([b.key for b in s.keys.bindings], s.key_seq,
                                          s.scroll_to, s.focus_note, s.press_queued)
    if _KEY_QUEUE is None:
        _KEY_QUEUE = st.components.v2.component("triage_key_queue", js=KEY_QUEUE_JS)

    def changed() -> None:
        on_keys((st.session_state.get("key_queue") or {}).get("pressed") or [])

    # The data in a one-item list: Streamlit checks each value of a dict for a dataframe,
    # and that check imports pandas (0.6–1.9 s), before the Annotate page's first paint.
    _KEY_QUEUE(key="key_queue", data=[{"keys": keys, "acked": acked, "focus": focus,
                                       "scroll": list(scroll) if scroll else None}],
               default={"pressed": []}, on_pressed_change=changed)


def show_guidelines(title: str, items: list[tuple[str, str]]) -> None:
    """A slot that is always there (toggling it never remounts what follows), holding the
    guidelines, (heading, text) per category, when `items` are given."""
    with st.container():
        if items:
            box = st.container(border=True)
            box.markdown(f"#### {title}")
            for heading, text in items:
                box.markdown(heading)
                box.caption(text)


def sticky_panel() -> Any:
    """A container that stays on screen at any scroll position (CSS on its `key` class)."""
    st.html(_STICKY_CSS)
    return st.container(key="label_panel")


def show_conversation(t: Transcript, views: list[MessageView], pager_key: str,
                      shown: tuple[int, int] | None = None) -> None:
    """A transcript as Annotate and Adjudicate show it: the conversation, paged when long
    (the messages `shown`, [start, end), or a pager selectbox under `pager_key`), and its
    retrieved context, in two tabs. Every transcript string is escaped by
    core/labels/conversation.py."""
    talk, docs = st.tabs(["Conversation", f"Context ({len(t.context or [])})"])
    with talk:
        ranges, n = page_ranges(len(views)), len(views)
        if shown is not None:
            views = views[shown[0]:shown[1]]
        elif len(ranges) > 1:
            lo, hi = st.selectbox("Messages", ranges, key=pager_key,
                                  format_func=lambda r: f"messages {r[0]}–{r[1] - 1} of {n}")
            views = views[lo:hi]
        st.html(messages_html(views))
    with docs:
        st.html(context_html(t.context))


# --- The demo apart ---------------------------------------------------------------------------
# When an admin starts the team's own database from the demo, this server serves it from then
# on, for every session: the demo's path (as the server was started with it) → the team's.
_MOVED: dict[str, str] = {}
_MOVED_LOCK = threading.Lock()


def served_settings() -> Settings:
    """Settings, with the database this server serves now (the team's, once moved off the demo)."""
    settings = load_settings()
    moved = _MOVED.get(str(settings.db_path))
    return dataclasses.replace(settings, db_path=Path(moved)) if moved else settings


def _demo_mark(counts: DemoCounts, path: Path) -> None:
    """On every page: that this is the demo, or that the demo sits beside the team's data."""
    if counts.state == "demo":
        st.markdown(f":orange-badge[:material/science: Demo] The bundled demo (`{path.name}`): "
                    "synthetic transcripts and labels, not your data.")
    elif counts.state == "mixed":
        st.markdown(f":orange-badge[:material/warning: Demo rows] This database also holds the "
                    f"bundled demo ({counts.demo} transcripts): the report, agreement and the "
                    "offline pre-labeler leave them out. `triage demo --remove` deletes them.")


def team_database_offer(ctx: AppContext) -> None:
    """On the demo (Home, Import): how to start the team's own database. An admin gets a
    button that creates it and moves this server onto it; everyone gets the commands."""
    if demo_counts(ctx.db).state != "demo":
        return
    target = team_db_path(ctx.db.path)
    with st.container(border=True):
        st.markdown(f"**Your own data goes in a database of its own**: `{target.name}` beside "
                    "the demo. Nothing of the demo is copied into it.")
        if target.resolve() == ctx.db.path.resolve():  # an earlier version's demo, in triage.duckdb
            st.caption(f"This `{target.name}` holds only the demo (an earlier version loaded it "
                       f"here): `triage --db {target} demo --remove` empties it for your data.")
        elif is_admin(ctx.db, ctx.user):
            st.button(f"Start our own database ({target.name})", type="primary",
                      key="start_team_database", on_click=_move_to_team_database,
                      args=(ctx, target))
        st.caption(f"Or in a terminal: `triage --db {target} import logs.jsonl`, then "
                   f"`triage --db {target} app` (in this folder `triage app` opens it once it "
                   "holds data).")
        if error := st.session_state.pop("start_team_database_error", None):
            st.error(error)


def _move_to_team_database(ctx: AppContext, target: Path) -> None:
    """Button callback: create the team's database and serve it from now on (every session's
    next run opens it); this session starts afresh there, keeping only who is reviewing."""
    try:
        start_team_database(target, ctx.user, ctx.db.path)
    except TriageError as e:
        st.session_state["start_team_database_error"] = str(e)
        return
    with _MOVED_LOCK:
        _MOVED[str(load_settings().db_path)] = str(target.resolve())
    user = st.session_state.get("triage_user")
    st.session_state.clear()
    if user:
        st.session_state["triage_user"] = user
    st.session_state["team_database_started"] = (
        f"This app now serves your team's database `{target.name}`; the demo stays in "
        f"`{ctx.db.path.name}`. Import your transcripts below.")


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


def hidden_fields_panel(ctx: AppContext, keys: list[str], key: str) -> None:
    """Which of these metadata keys reviewers will not see (setting reviewer_hidden_fields),
    and, for an admin, the patterns to change it."""
    if not keys:
        return
    hidden = hidden_among(ctx.db, keys)
    shown = [k for k in keys if k not in hidden]
    with st.expander(f"Metadata reviewers see: {len(shown)} of {len(keys)} keys", expanded=bool(hidden)):
        st.markdown("Hidden on Annotate and Adjudicate (and on Browse, except for admins): "
                    + (", ".join(f"`{k}`" for k in hidden) or "none")
                    + ". Shown: " + (", ".join(f"`{k}`" for k in shown) or "none") + ".")
        if not is_admin(ctx.db, ctx.user):
            st.caption("An admin can change which keys are hidden (setting reviewer_hidden_fields).")
            return
        with st.form(f"hidden_fields_{key}", border=False):
            text = st.text_area("Hidden keys (one key name or glob such as *score* per line; any case)",
                                "\n".join(hidden_patterns(ctx.db)), height=120)
            if st.form_submit_button("Save hidden keys"):
                patterns = [p.strip() for p in text.splitlines() if p.strip()]
                try:
                    change_setting(ctx.db, "reviewer_hidden_fields", patterns, ctx.user)
                except TriageError as e:
                    st.error(str(e))
                else:
                    st.rerun()
