"""Incident notices: the function API supervisors' pages call, and `flask notices`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ivr_support import WORKDAY_MORNING

from core.db import get_db
from ivr.notices import (
    NOTICE_MAX_CHARS,
    NoticeError,
    active_notices,
    add_notice,
    expire_notice,
    list_notices,
)

pytestmark = pytest.mark.store
NOW = WORKDAY_MORNING


def test_active_filters_by_expiry_district_and_topic(store_app):
    with get_db(store_app).session() as s:
        everywhere = add_notice(s, text="全市停水通知", now=NOW)
        district = add_notice(s, text="东营区燃气检修", district="东营区", now=NOW)
        add_notice(
            s, text="供暖管网抢修", topic="heating", now=NOW, expires_at=NOW + timedelta(hours=2)
        )
    with get_db(store_app).session() as s:
        assert [n.text for n in active_notices(s, now=NOW)] == [
            "全市停水通知",
            "东营区燃气检修",
            "供暖管网抢修",
        ]
        assert [n.id for n in active_notices(s, now=NOW, district="东营区", topic="water")] == [
            everywhere.id,
            district.id,
        ]
        later = NOW + timedelta(hours=3)
        assert [n.text for n in active_notices(s, now=later)] == ["全市停水通知", "东营区燃气检修"]
        expire_notice(s, district.id, now=NOW)
    with get_db(store_app).session() as s:
        assert [n.text for n in active_notices(s, now=NOW)] == ["全市停水通知", "供暖管网抢修"]
        assert len(list_notices(s, include_expired=True)) == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"text": "  "}, "a notice needs text"),
        ({"text": "长" * (NOTICE_MAX_CHARS + 1)}, "at most 300 characters"),
        ({"text": "x", "expires_at": NOW - timedelta(minutes=1)}, "in the past"),
        ({"text": "x", "expires_at": NOW + timedelta(days=31)}, "at most 30 days"),
    ],
)
def test_bad_notices_are_refused(store_app, kwargs, message):
    with get_db(store_app).session() as s, pytest.raises(NoticeError, match=message):
        add_notice(s, now=NOW, **kwargs)


def test_cli_add_list_expire(runner):
    added = runner.invoke(args=["notices", "add", "台风预警：全市停课", "--hours", "6"])
    assert added.exit_code == 0 and added.output.startswith("notice 1 on until")
    listed = runner.invoke(args=["notices", "list"])
    assert "\ton\t" in listed.output and "台风预警：全市停课" in listed.output
    assert runner.invoke(args=["notices", "expire", "1"]).output == "notice 1 off\n"
    assert runner.invoke(args=["notices", "list"]).output == ""
    assert "\toff\t" in runner.invoke(args=["notices", "list", "--all"]).output
    missing = runner.invoke(args=["notices", "expire", "99"])
    assert missing.exit_code == 1 and "no notice 99" in missing.output
