"""Entry page of the Triage app: navigation and a landing summary."""

from __future__ import annotations

import streamlit as st

from core.home import LandingSummary, landing_summary
from core.ui import app_page_config, bootstrap, team_database_offer

# Pages the landing page links to, by url_path; a link shows once its page is in PAGES.
LINKS = ["import", "annotate", "adjudicate", "prelabel", "report", "sql"]
# What the "next step" line links to, by its action.
ACTION_PAGES = {"import": "import", "annotate": "annotate", "adjudicate": "adjudicate",
                "report": "report"}


def _page(url_path: str) -> st.Page | None:
    return next((p for p in PAGES if p.url_path == url_path), None)


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


PAGES = [
    st.Page(home, title="Home", icon=":material/home:", default=True),
    st.Page("pages/import.py", title="Import", icon=":material/upload_file:", url_path="import"),
    st.Page("pages/annotate.py", title="Annotate", icon=":material/label:", url_path="annotate"),
    st.Page("pages/adjudicate.py", title="Adjudicate", icon=":material/balance:", url_path="adjudicate"),
    st.Page("pages/browse.py", title="Browse", icon=":material/search:", url_path="browse"),
    st.Page("pages/prelabel.py", title="Pre-label", icon=":material/smart_toy:", url_path="prelabel"),
    st.Page("pages/report.py", title="Report", icon=":material/bar_chart:", url_path="report"),
    st.Page("pages/sql.py", title="SQL", icon=":material/terminal:", url_path="sql"),
    st.Page("pages/discover.py", title="Discover", icon=":material/hub:", url_path="discover"),
    st.Page("pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
    st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:", url_path="admin"),
]

if __name__ == "__main__":
    app_page_config()
    st.navigation(PAGES).run()
