from core.labels.conversation import (
    FOLD_CHARS,
    context_html,
    message_html,
    message_views,
    metadata_rows,
    page_ranges,
    pretty_arguments,
)
from core.store.transcripts import get_transcript
from tests.annotate_helpers import HOSTILE_ID, hostile_record, tool_record
from tests.conftest import add_transcripts


def views_of(db, record):
    add_transcripts(db, [record])
    return get_transcript(db, str(record["id"]))


def test_hostile_content_is_escaped_everywhere(db):
    t = views_of(db, hostile_record())
    html = "".join(message_html(m) for m in message_views(t)) + context_html(t.context)
    for live in ("<script", "<img", "<a ", "<b>"):
        assert live not in html
    assert "&lt;script&gt;window.__pwned=1" in html
    assert "&lt;img src=x onerror=alert(4)&gt;" in html  # the tool name
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # the message name
    assert metadata_rows(t.metadata) == [("channel", "<script>alert(6)</script>")]
    assert t.transcript_id == HOSTILE_ID


def test_tool_calls_pretty_and_long_results_and_system_prompt_folded(db):
    t = views_of(db, tool_record(1))
    views = message_views(t)
    assert [v.role for v in views] == ["system", "user", "assistant", "tool", "assistant"]
    assert views[2].tool_calls[0].name == "get_booking"
    assert views[2].tool_calls[0].arguments == '{\n  "code": "ABC1"\n}'
    assert [v.folded for v in views] == [True, False, False, True, False]
    assert len(views[3].text) > FOLD_CHARS
    assert "<details" in message_html(views[3]) and "<details" not in message_html(views[1])
    assert views[2].summary() == "#2 assistant: get_booking"
    assert "kb/gates.md" in context_html(t.context)


def test_content_parts_null_content_and_bad_arguments_render_as_text():
    assert pretty_arguments("not json {") == "not json {"
    assert pretty_arguments({"a": 1}) == '{\n  "a": 1\n}'
    from core.store.transcripts import Transcript
    t = Transcript("x", "s", [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
                              {"role": "assistant", "content": None,
                               "function_call": {"name": "f", "arguments": "{}"}}],
                   None, None, {}, "h", None, None, 2, True, 2, False)
    views = message_views(t)
    assert views[0].text == "hi" and views[1].tool_calls[0].name == "f"


def test_page_ranges_cover_every_message():
    assert page_ranges(0) == [(0, 0)]
    assert page_ranges(85, 40) == [(0, 40), (40, 80), (80, 85)]
