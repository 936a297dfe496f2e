"""Knowledge base: seeding (idempotent) and search over both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import get_db
from tickets import kb
from tickets.models import Article, Department, Topic
from tickets.seed import seed

pytestmark = pytest.mark.store


def test_seed_is_idempotent(store_app):
    with store_app.app_context():
        with get_db().session() as s:
            first = seed(s)
        with get_db().session() as s:
            seed(s)
            assert s.scalar(select(func.count(Article.id))) == first.articles
            assert s.scalar(select(func.count(Department.id))) == first.departments
            topics = s.scalars(select(Topic.code).order_by(Topic.sort_order)).all()
    assert topics[:6] == [
        "rural_affairs",
        "property_management",
        "consumer_rights",
        "housing_fund",
        "heating",
        "noise",
    ]


def test_seed_report_articles_and_search(store_app):
    with store_app.app_context(), get_db().session() as s:
        seed(s)
        pork = kb.get_article(s, "reserve-pork")
        assert "120吨" in pork.answer and pork.topic == "commerce"
        assert kb.search(s, "异地车辆年检怎么办")[0][0].key == "vehicle-inspection-elsewhere"
        assert kb.search(s, "有没有储备肉卖")[0][0].key == "reserve-pork"
        assert kb.search(s, "暖气不热找谁")[0][0].key == "heating-not-warm"
        keys = [a.key for a, _ in kb.search(s, "公积金提取", topic="housing_fund")]
        assert keys and all(k.startswith("housing-fund") for k in keys)
        assert kb.search(s, "的 吗") == []
        assert kb.search(s, "100%_") == []  # LIKE wildcards are escaped
