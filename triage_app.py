"""Entry page of the Triage app: navigation and a landing summary."""

from __future__ import annotations

import streamlit as st

from core.home import LandingSummary, landing_summary
from core.ui import (
    app_page_config,
    bootstrap,
    navigation_role,
    page_visibility,
    team_database_offer,
)

# Pages the landing page links to, by url_path; a link shows once its page is in PAGES.
LINKS = ["import", "annotate", "adjudicate", "prelabel", "report", "sql"]
# What the "next step" line links to, by its action.
ACTION_PAGES = {"import": "import", "annotate": "annotate", "adjudicate": "adjudicate",
                "report": "report"}


def _page(url_path: str) -> st.Page | None:
    return next((p for p in PAGES if p.url_path == url_path and p.visibility == "visible"), None)


def _metrics(s: LandingSummary) -> None:
    cols = st.columns(6)
    cols[0].metric("Transcripts", s.active, help=f"active; {s.archived} archived")
    cols[1].metric("Labeled", s.labeled, help="transcripts with a final label, as the report counts them "
                   "(open disagreements are counted apart)")
    cols[2].metric("Double-labeled", s.double_labeled)
    cols[3].metric("Open disagreements", s.disagreements)
    cols[4].metric("Pre-labeled", s.prelabeled)
    cols[5].metric("Your labels today", s.my_labels_today)


def _next_step(s: LandingSummary) -> None:
    st.info(f"**Next:** {s.next_step.message}")
    page = _page(ACTION_PAGES.get(s.next_step.action, ""))
    if page is not None:
        st.page_link(page, label=f"Go to {page.title}", icon=":material/arrow_forward:")
    links = [p for p in map(_page, LINKS) if p is not None]
    for col, page in zip(st.columns(max(len(links), 1)), links, strict=False):
        with col:
            st.page_link(page)


def _categories(s: LandingSummary) -> None:
    st.subheader("Final labels by category")
    rows = [{"Category": c.name, "Fix class": c.fix_class, "Transcripts": c.n}
            for c in s.by_category]
    st.dataframe(rows, hide_index=True, width="content")
    if s.disagreements:
        st.caption(f"{s.disagreements} open disagreements count once they are adjudicated.")


def home() -> None:
    ctx = bootstrap("Home")
    # The heading first: the browser draws it while the counts are computed.
    st.title("Triage")
    st.caption(f"Reviewer: **{ctx.user}** · database `{ctx.settings.db_path}` · taxonomy "
               f"`{ctx.taxonomy.name}` ({ctx.taxonomy.version})")
    team_database_offer(ctx)
    with st.spinner("Counting…", show_time=True):
        s = landing_summary(ctx.db, ctx.taxonomy, ctx.user)
    _metrics(s)
    _next_step(s)
    _categories(s)


# (file or function, title, icon, url path); the navigation lists a page to the roles that may
# open it (core/admin.PAGE_ROLES), and routes every page so a deep link reaches its refusal.
PAGE_SPECS = [
    ("pages/import.py", "Import", ":material/upload_file:", "import"),
    ("pages/annotate.py", "Annotate", ":material/label:", "annotate"),
    ("pages/adjudicate.py", "Adjudicate", ":material/balance:", "adjudicate"),
    ("pages/browse.py", "Browse", ":material/search:", "browse"),
    ("pages/prelabel.py", "Pre-label", ":material/smart_toy:", "prelabel"),
    ("pages/report.py", "Report", ":material/bar_chart:", "report"),
    ("pages/sql.py", "SQL", ":material/terminal:", "sql"),
    ("pages/discover.py", "Discover", ":material/hub:", "discover"),
    ("pages/settings.py", "Settings", ":material/settings:", "settings"),
    ("pages/admin.py", "Admin", ":material/admin_panel_settings:", "admin"),
]


def build_pages() -> list[st.Page]:
    """Every page, each visible in the navigation only to the roles that may open it."""
    role = navigation_role()  # one read per run (it was one per page, on every rerun)
    return [st.Page(home, title="Home", icon=":material/home:", default=True), *(
        st.Page(f, title=t, icon=i, url_path=u, visibility=page_visibility(u, role))
        for f, t, i, u in PAGE_SPECS)]


PAGES: list[st.Page] = []

if __name__ == "__main__":
    app_page_config()
    PAGES = build_pages()
    st.navigation(PAGES).run()
