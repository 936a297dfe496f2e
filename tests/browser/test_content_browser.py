"""The content editors in headless Chromium against a real HTTP server: a supervisor edits
a knowledge-base article, listens to it, looks at the diff; tries the classification test
box; opens the routing table; enters a 调休 workday on the 2027 calendar. Screenshots of
every editor page go to $HOTLINE_SHOTS (default /tmp/shots)."""

from __future__ import annotations

from datetime import date

import pytest
from accounts_support import PASSWORD, make_user
from content_support import _forget_process_calendar  # noqa: F401
from test_browser_pages import browser, live_server, shots_dir  # noqa: F401  (fixtures)

from core import calendar
from core.db import get_db
from tickets.seed import seed

pytestmark = pytest.mark.browser
NEW_ANSWER = "本市供暖季为每年11月15日至次年3月15日。暖气不热可拨打12345反映。"


def test_supervisor_edits_the_lines_content(live_server, browser, shots_dir):  # noqa: F811
    app, base = live_server
    with app.app_context(), get_db(app).session() as s:
        seed(s)
    make_user(app, "office", "supervisor")
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/content/kb/")
    page.fill("#username", "office")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/content/kb/")

    page.fill("input[name=q]", "暖气不热找谁")
    page.click("form[role=search] button")
    page.wait_for_load_state()
    assert "heating-not-warm" in page.inner_text("section[aria-label='搜索结果 Results']")
    page.screenshot(path=str(shots_dir / "kb-editor.png"), full_page=True)

    page.goto(f"{base}/content/kb/heating-season")
    assert "heating" in page.inner_text("main")  # the node of the published flow
    page.fill("textarea[name=answer]", NEW_ANSWER)
    page.click("form.stack button.primary")
    page.wait_for_load_state()
    assert "已保存 saved: version 2" in page.inner_text(".flashes")
    # Listen: the browser fetches and decodes the synthesized answer.
    duration = page.eval_on_selector(
        "audio",
        """a => new Promise((ok, fail) => {
             a.addEventListener('loadedmetadata', () => ok(a.duration));
             a.addEventListener('error', () => fail('audio error'));
             a.load();
           })""",
    )
    assert duration > 3
    page.screenshot(path=str(shots_dir / "kb-article.png"), full_page=True)
    page.click("ol.history a:has-text('version 2')")
    page.wait_for_load_state()
    assert "+本市供暖季" in page.inner_text("pre.diff")
    page.screenshot(path=str(shots_dir / "kb-version-diff.png"), full_page=True)
    page.goto(f"{base}/content/kb/heating-season")
    page.click("form[action$='/retire'] button")
    page.wait_for_load_state()
    assert "node 'heating' of the published flow" in page.inner_text(".flashes")

    page.goto(f"{base}/content/rules/")
    page.fill("input[name=text]", "小区暖气一直不热，屋里只有十五度")
    page.click("form[aria-label='测试 Test'] button")
    page.wait_for_load_state()
    assert "供暖" in page.inner_text("section[aria-label='建议 Suggestion']")
    page.screenshot(path=str(shots_dir / "rules-editor.png"), full_page=True)
    page.goto(f"{base}/content/routing/")
    assert "hekou_district" in page.input_value("textarea[name=districts]")
    page.screenshot(path=str(shots_dir / "routing-editor.png"), full_page=True)

    page.goto(f"{base}/calendar/?year=2027")
    assert "2027年调休安排未录入" in page.inner_text("main")
    page.fill("input[name=date]", "2027-02-20")
    page.select_option("select[name=kind]", "workday")
    page.fill("input[name=name]", "春节调休")
    page.click("form[aria-label='录入 Enter a day'] button")
    page.wait_for_load_state()
    assert "2027-02-20 已保存 saved" in page.inner_text(".flashes")
    assert "调休安排未录入" not in page.inner_text("main")
    page.screenshot(path=str(shots_dir / "calendar-2027.png"), full_page=True)
    with app.app_context():
        assert calendar.is_workday(date(2027, 2, 20))
    assert errors == []
