"""Classification rules, routing table and their loading errors."""

from __future__ import annotations

import pytest
from conftest import TEST_API_TOKEN

from core.db import get_db
from tickets import classify, routing, service
from tickets.seed import seed
from tickets.yamlfile import ConfigFileError

HEALTH_DETAIL = {"Authorization": f"Bearer {TEST_API_TOKEN}"}  # /healthz detail


def test_classify_suggests_type_topic_department():
    s = classify.classify("楼下烧烤店油烟太大，严重影响休息，我要投诉")
    assert (s.demand_type, s.topic, s.department) == (
        "complaint",
        "environment",
        "ecology_environment",
    )
    s = classify.classify("请问住房公积金怎么提取")
    assert (s.demand_type, s.topic, s.department) == (
        "consultation",
        "housing_fund",
        "housing_fund",
    )
    s = classify.classify("建议增设一条公交线路到开发区")
    assert (s.demand_type, s.topic) == ("suggestion", "public_transport")


def test_unknown_text_gets_defaults():
    s = classify.classify("喂喂")
    assert (s.demand_type, s.topic, s.department) == ("consultation", "other", "hotline_office")


def test_whole_word_keyword_uses_jieba(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "demand_types: {default: consultation}\ntopics:\n  default: other\n  utilities: ['=水']\n",
        encoding="utf-8",
    )
    loaded = classify.load_rules(rules)
    assert classify.classify("家里没有水了", rules=loaded).topic == "utilities"
    assert classify.classify("单位的薪水没发", rules=loaded).topic == "other"


def test_district_routes_rural_affairs_to_county():
    table = routing.load_routing()
    assert table.department_for("rural_affairs", "利津县") == "lijin_county"
    assert table.department_for("rural_affairs", None) == "agriculture"
    assert table.department_for("no_such_topic") == "hotline_office"


def test_bad_rules_file_names_the_problem(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "demand_types: {default: consultation, praise: [表扬]}\ntopics: {default: other}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigFileError, match="unknown type.*praise"):
        classify.load_rules(bad)
    bad.write_text(
        "demand_types: {default: consultation}\ntopics: {default: other, x: 3}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigFileError, match=r"topics\.x: expected a list"):
        classify.load_rules(bad)


@pytest.mark.store
def test_transcript_fills_empty_fields_and_route_dispatches(store_app):
    with store_app.app_context(), get_db().session() as s:
        seed(s)
        t = service.create_ticket(s, channel="voice_message", caller_number=None, district="利津县")
        service.attach_transcript(
            s, t.id, text="我们村里的农田没水浇地，麦子都快旱死了", confidence=0.7, words=[]
        )
        assert (t.topic, t.suggested_department) == ("rural_affairs", "lijin_county")
        service.route(s, t, actor="supervisor:li")
        assert t.status == "dispatched" and t.department.code == "lijin_county"
        actions = [(e.actor, e.action) for e in t.events]
        assert ("classifier", "updated") in actions
        assert actions[-1] == ("supervisor:li", "dispatched")


def test_health_reports_seeding(app):
    client = app.test_client()
    body = client.get("/healthz", headers=HEALTH_DETAIL).get_json()
    assert body["checks"]["tickets"]["ok"] is True
    assert "flask tickets seed" in body["checks"]["tickets"]["hint"]
    with app.app_context(), get_db().session() as s:
        seed(s)
    assert (
        client.get("/healthz", headers=HEALTH_DETAIL).get_json()["checks"]["tickets"]["departments"]
        == 21
    )


def test_cli_classify(app):
    out = app.test_cli_runner().invoke(
        args=["tickets", "classify", "村里的灌溉渠没水", "--district", "利津县"]
    )
    assert out.exit_code == 0
    assert "topic: rural_affairs" in out.output and "department: lijin_county" in out.output
