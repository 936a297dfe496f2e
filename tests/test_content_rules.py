"""Classification rules and routing editors: saved versions change the classification and
the routing at once, accuracy on the labelled set is recomputed and compared with the
previous version (store on both backends); pages with test box, roles and CSRF."""

from __future__ import annotations

import copy

import pytest
from accounts_support import csrf_token
from content_support import _forget_process_calendar, logged_in  # noqa: F401

from content import rules_forms
from core.db import get_db
from tickets import classify, rulebook, ruleset_source
from tickets.errors import ValidationError
from tickets.models import RuleSet
from tickets.seed import seed

HEAT = "小区暖气一直不热，屋里只有十五度"


@pytest.fixture(autouse=True)
def _forget_process_rules():
    yield
    ruleset_source.forget_process()


@pytest.mark.store
def test_saved_rules_and_routing_apply_at_once_with_accuracy(store_app):
    with store_app.app_context():
        with get_db().session() as s:
            seed(s)  # imports the shipped files as version 1
            first = rulebook.current(s, "rules")
            assert (first.version, first.author) == (1, "shipped")
            assert first.accuracy["topic"] > 90 and first.accuracy["n"] > 100
        assert classify.classify(HEAT).topic == "heating"
        with get_db().session() as s:
            data = copy.deepcopy(rulebook.current(s, "rules").data)
            data["topics"]["noise"] = [*data["topics"]["noise"], {"暖气": 50}, {"不热": 50}]
            saved = rulebook.save(s, "rules", data, author="office")
            assert saved.new.version == 2 and saved.previous.version == 1
            assert saved.new.accuracy["topic"] < saved.previous.accuracy["topic"]
            assert "topic" in saved.drops
        assert classify.classify(HEAT).topic == "noise"
        with get_db().session() as s:
            table = copy.deepcopy(rulebook.current(s, "routing").data)
            table["topics"]["noise"] = "housing"
            rulebook.save(s, "routing", table, author="office")
        assert classify.classify(HEAT).department == "housing"
        with get_db().session() as s:
            seed(s)  # a restart does not bring the shipped files back
            assert [v.version for v in rulebook.history(s, "rules")] == [2, 1]
            assert s.query(RuleSet).count() == 4


def test_invalid_documents_are_refused():
    with pytest.raises(ValidationError) as caught:
        rulebook.build("rules", {"demand_types": {"default": "consultation", "praise": []}})
    assert "rules" in caught.value.errors
    errors: dict = {}
    assert rules_forms.keywords_from_text("tp__x", "暖气:2 =水 不热:x 供暖", errors) == [
        {"暖气": 2},
        "=水",
        "供暖",
    ]
    assert "bad weight" in errors["tp__x"]
    assert (
        rules_forms.keywords_to_text([{"暖气": 2}, "=水", {"供暖": 1.5}]) == "暖气:2 =水 供暖:1.5"
    )


def test_rules_page_test_box_save_and_accuracy_warning(app):
    with app.app_context(), get_db(app).session() as s:
        seed(s)
    assert app.test_client().get("/content/rules/").status_code == 302
    agent = logged_in(app, "agent1", "agent")
    assert agent.get("/content/rules/").status_code == 403
    office = logged_in(app, "office", "supervisor")
    page = office.get(f"/content/rules/?text={HEAT}").get_data(as_text=True)
    assert "供暖" in page and "heating" in page and "得分 Scores" in page
    form = {"csrf_token": csrf_token(office, "/content/rules/")}
    with app.app_context(), get_db(app).session() as s:
        data = rulebook.current(s, "rules").data
    form["demand_default"] = "consultation"
    form["topic_default"] = "other"
    for code, entries in data["demand_types"].items():
        if code != "default":
            form[f"dt__{code}"] = rules_forms.keywords_to_text(entries)
    for code, entries in data["topics"].items():
        if code != "default":
            form[f"tp__{code}"] = rules_forms.keywords_to_text(entries)
    assert office.post("/content/rules/", data={**form, "csrf_token": ""}).status_code == 400
    agent_form = {**form, "csrf_token": csrf_token(agent, "/account")}
    assert agent.post("/content/rules/", data=agent_form).status_code == 403
    bad = office.post("/content/rules/", data={**form, "tp__noise": "暖气:abc"})
    assert bad.status_code == 400 and "bad weight" in bad.get_data(as_text=True)
    form["tp__noise"] += " 暖气:50 不热:50"
    saved = office.post("/content/rules/", data=form, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert "已保存 saved version 2" in html and "之前 was" in html
    assert "准确率下降 Accuracy dropped: 分类 topic" in html and "▼ 下降 dropped" in html
    retest = office.get(f"/content/rules/?text={HEAT}").get_data(as_text=True)
    assert "topics.noise: +暖气:50 +不热:50" in retest
    changed = retest[retest.index("建议 Suggestion") :]
    assert "<b>噪声污染</b>" in changed and "noise 10" in changed, changed[:900]
    restored = office.post(
        "/content/rules/versions/1/restore",
        data={"csrf_token": form["csrf_token"]},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已保存 saved version 3" in restored and "topics.noise: −暖气 −不热" in restored
    with app.app_context():
        assert classify.classify(HEAT).topic == "heating"
    assert agent.post("/content/rules/versions/1/restore", data=agent_form).status_code == 403
    suggestion = office.get(f"/content/rules/?text={HEAT}").get_data(as_text=True)
    suggestion = suggestion[suggestion.index("建议 Suggestion") :]
    assert "<b>供暖问题</b>" in suggestion, suggestion[:900]


def test_routing_page_saves_and_routes(app):
    with app.app_context(), get_db(app).session() as s:
        seed(s)
    office = logged_in(app, "office", "supervisor")
    page = office.get("/content/routing/").get_data(as_text=True)
    assert "河口区 rural_affairs hekou_district" in page
    form = {"csrf_token": csrf_token(office, "/content/routing/"), "default": "hotline_office"}
    with app.app_context(), get_db(app).session() as s:
        table = rulebook.current(s, "routing").data
    for topic, dept in table["topics"].items():
        form[f"topic__{topic}"] = dept
    form["topic__heating"] = "housing"
    form["districts"] = "河口区 rural_affairs hekou_district\n东营区 nowhere housing"
    bad = office.post("/content/routing/", data=form)
    assert bad.status_code == 400 and "line 2" in bad.get_data(as_text=True)
    form["districts"] = "河口区 rural_affairs hekou_district"
    saved = office.post("/content/routing/", data=form, follow_redirects=True)
    assert "已保存 saved version 2" in saved.get_data(as_text=True)
    with app.app_context():
        assert classify.classify(HEAT).department == "housing"
        assert classify.classify("村里的土地流转费没给", "垦利区").department == "agriculture"
