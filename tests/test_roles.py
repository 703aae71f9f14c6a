"""Roles (issue 15): the one rule in core/admin.py, every page by deep link for each role, the
navigation, and the CLI acting under the same rule."""

from __future__ import annotations

import pytest

from core.admin import change_setting, may_open, page_refusal, role_of
from core.errors import PermissionDenied, UsageError
from core.store.settings import set_setting
from tests.seed_helpers import app, texts

PAGES = {"home": "triage_app.py", "import": "pages/import.py", "annotate": "pages/annotate.py",
         "adjudicate": "pages/adjudicate.py", "browse": "pages/browse.py",
         "prelabel": "pages/prelabel.py", "report": "pages/report.py", "sql": "pages/sql.py",
         "discover": "pages/discover.py", "settings": "pages/settings.py",
         "admin": "pages/admin.py"}
# The role table as implemented: the pages each role may open.
TABLE = {
    "reviewer": {"home", "annotate", "browse", "report"},
    "analyst": {"home", "annotate", "browse", "report", "sql", "adjudicate"},
    "admin": set(PAGES),
}
USERS = {"reviewer": "rita", "analyst": "ann", "admin": "ada"}


@pytest.fixture
def team(db):
    set_setting(db, "admins", ["ada"], "ada")
    set_setting(db, "analysts", ["ann"], "ada")
    return db


def test_role_table_is_the_rule(team):
    for role, user in USERS.items():
        assert role_of(team, user) == role
        assert {p for p in PAGES if may_open(role, p)} == TABLE[role]
    assert role_of(team, "ada (unverified)") == "reviewer"


def test_fresh_install_makes_everyone_admin_and_analysts_wait_for_admins(db):
    assert role_of(db, "anyone") == "admin"
    with pytest.raises(UsageError, match="name the admins first"):
        change_setting(db, "analysts", ["ann"], "zoe")
    change_setting(db, "admins", ["zoe"], "zoe")
    change_setting(db, "analysts", ["ann"], "zoe")
    assert (role_of(db, "zoe"), role_of(db, "ann"), role_of(db, "bob")) == (
        "admin", "analyst", "reviewer")
    with pytest.raises(UsageError, match="empty `analysts` first"):
        change_setting(db, "admins", [], "zoe")
    with pytest.raises(PermissionDenied, match=r"'ann' \(analyst\) may not|only admins"):
        change_setting(db, "analysts", ["ann", "bob"], "ann")


def test_refusal_says_who_may_and_how_to_ask(team):
    msg = page_refusal(team, "rita", "sql", "SQL")
    assert msg.startswith("The SQL page is for analysts and admins. You are 'rita' (reviewer).")
    assert "Ask an admin (ada)" in msg and "triage config set analysts" in msg
    assert page_refusal(team, "ann", "sql", "SQL") is None


@pytest.mark.parametrize("role", list(USERS))
def test_every_page_by_deep_link_opens_or_refuses_by_role(team, db_path, monkeypatch, role):
    team.close()
    for page, path in PAGES.items():
        at = app(path, db_path, USERS[role], monkeypatch).run()
        shown = texts(at)
        refused = "page is for" in shown
        assert refused == (page not in TABLE[role]), (role, page, shown[:300])
        assert not at.exception, (role, page)


def test_navigation_lists_only_the_pages_a_reviewer_may_open(team, db_path, monkeypatch):
    team.close()
    import triage_app  # noqa: F401 - the module's PAGES are rebuilt by the script run

    at = app("triage_app.py", db_path, "rita", monkeypatch).run()
    links = {p.label for p in at.get("page_link")} if hasattr(at, "get") else set()
    assert not ({"Import", "SQL", "Pre-label", "Settings", "Admin"} & links)


def test_attackers_url_gets_no_request_whatever_a_reviewer_does(team, db_path, monkeypatch,
                                                                 llm_server):
    from tests.llm_server import LLMServer

    monkeypatch.setenv("OPENAI_API_KEY", "sk-team-secret")
    monkeypatch.setenv("TRIAGE_LLM_BASE_URL", llm_server.base_url)
    with LLMServer() as attacker:
        with pytest.raises(PermissionDenied):
            change_setting(team, "llm_base_url", attacker.base_url, "rita")
        team.close()
        for page in ("pages/prelabel.py", "pages/settings.py", "pages/discover.py"):
            at = app(page, db_path, "rita", monkeypatch).run()
            assert "page is for admins" in texts(at)
            assert not at.text_input and not at.button  # nothing to type a URL into
        assert attacker.state.count == 0 and llm_server.state.count == 0
