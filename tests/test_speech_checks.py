"""Pronunciation warnings: uncertain polyphones, Latin words, emoji, long text; CLI and studio."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ROOT
from speech import lexicon as lex
from speech.checks import pronunciation_warnings

SHIPPED = lex.load()


def _messages(text, lexicon=SHIPPED):
    return [w.message for w in pronunciation_warnings([("flows.yaml:7 nodes.x", text)], lexicon)]


def test_unsettled_polyphone_gets_a_warning_with_a_hint():
    (message,) = _messages("请到服务大厅量")
    assert "'量'" in message and "liang4" in message and "lexicon.yaml" in message


def test_lexicon_entry_settles_the_warning():
    assert _messages("请到服务大厅量") != []
    settled = lex.parse("大厅量: da4 ting1 liang2\n")
    assert _messages("请到服务大厅量", settled) == []


def test_words_of_the_phrase_dictionary_and_context_rules_raise_nothing():
    assert _messages("您好，欢迎致电12345政务服务便民热线。银行的工作时间很长。") == []


def test_where_is_kept_in_the_text_of_a_warning():
    (warning,) = pronunciation_warnings([("flows.yaml:7 nodes.x", "请到服务大厅量")], SHIPPED)
    assert str(warning).startswith("flows.yaml:7 nodes.x: ")


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("请下载APP办理", "Latin word 'APP'"),
        ("您好😀", "😀 make no sound"),
        ("请" * 1200, "longer than 1000"),
    ],
)
def test_latin_emoji_and_long_text_warn_and_never_raise(text, part):
    assert any(part in m for m in _messages(text))


@pytest.mark.parametrize("text", ["", "\x00", "{digits}", "%%%", "ＡＢＣ１２３", "\U0010ffff"])
def test_odd_text_never_raises(text):
    pronunciation_warnings([("x", text)], SHIPPED)


def test_flows_check_prints_warnings_and_still_passes(app, tmp_path):
    flow = tmp_path / "flows.yaml"
    shipped = Path(app.config["FLOWS_PATH"]).read_text(encoding="utf-8")
    changed = shipped.replace(
        "正在为您转接人工服务，请稍候。", "正在为您转接人工服务，请下载APP。", 1
    )
    assert changed != shipped
    flow.write_text(changed, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["flows", "check", str(flow)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output
    assert "warning: flows.yaml:" in result.output and "Latin word 'APP'" in result.output
    assert "1 pronunciation warning(s)" in result.output


def test_shipped_flow_has_no_pronunciation_warning(app):
    result = app.test_cli_runner().invoke(args=["flows", "check"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_studio_validation_lists_pronunciation_warnings_with_their_line(make_app, tmp_path):
    from accounts_support import csrf_token, login, make_user

    flows = tmp_path / "flows.yaml"
    shipped = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    flows.write_text(shipped, encoding="utf-8")
    app = make_app(FLOWS_PATH=str(flows))
    make_user(app, "lead", "supervisor")
    client = app.test_client()
    login(client, "lead")
    token = csrf_token(client, "/studio/")
    edited = shipped.replace(
        "正在为您转接人工服务，请稍候。", "正在为您转接人工服务，请下载APP。", 1
    )
    line = next(i for i, row in enumerate(edited.splitlines(), 1) if "请下载APP" in row)
    resp = client.post("/studio/validate", json={"text": edited}, headers={"X-CSRFToken": token})
    data = resp.get_json()
    assert data["ok"] is True and data["issues"] == []
    (warning,) = data["warnings"]
    assert "Latin word 'APP'" in warning["text"]
    # The node's line: the editor marks it; the prompt is on that node.
    assert 0 < warning["line"] <= line
    clean = client.post("/studio/validate", json={"text": shipped}, headers={"X-CSRFToken": token})
    assert clean.get_json()["warnings"] == []


def test_an_english_sentence_is_not_a_latin_word_warning():
    assert _messages("咨询请按1。For English, press 8.") == []


def test_studio_page_lists_the_warnings_of_the_published_flow(make_app, tmp_path):
    from accounts_support import login, make_user

    flows = tmp_path / "flows.yaml"
    shipped = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    flows.write_text(shipped.replace("请稍候。", "请下载APP。", 1), encoding="utf-8")
    app = make_app(FLOWS_PATH=str(flows))
    make_user(app, "lead", "supervisor")
    client = app.test_client()
    login(client, "lead")
    page = client.get("/studio/").get_data(as_text=True)
    assert '<li class="warning"' in page and "Latin word &#39;APP&#39;" in page


def test_flows_check_covers_knowledge_base_answers_and_notices(app):
    from core.db import get_db
    from ivr.notices import add_notice
    from tickets.kb import upsert_article

    with get_db(app).session() as s:
        upsert_article(s, key="app-help", question="怎么下载？", answer="请在手机上下载APP办理。")
        add_notice(s, text="今晚停水，请关注WeChat公众号。")
    result = app.test_cli_runner().invoke(args=["flows", "check"])
    assert result.exit_code == 0, result.output
    assert "warning: kb app-help: Latin word 'APP'" in result.output
    assert "Latin word 'WeChat'" in result.output and "warning: notice " in result.output
