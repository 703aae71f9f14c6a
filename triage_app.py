"""Entry page of the Triage app: navigation and a landing summary."""

from __future__ import annotations

import streamlit as st

from core.ui import bootstrap


def home() -> None:
    ctx = bootstrap("Home")
    from core.storage.transcripts import count_transcripts

    st.title("Triage")
    st.caption(f"Reviewer: **{ctx.user}** · database `{ctx.settings.db_path}` · taxonomy "
               f"`{ctx.taxonomy.name}` ({ctx.taxonomy.version})")
    st.metric("Transcripts", count_transcripts(ctx.db))


PAGES = [
    st.Page(home, title="Home", icon="🏠", default=True),
    st.Page("pages/annotate.py", title="Annotate", icon="🏷️", url_path="annotate"),
]

if __name__ == "__main__":
    st.navigation(PAGES).run()
