"""Roles and CSRF on every route of the content editors (swept from the URL map, so a
route added later is covered): anonymous callers are sent to log in (pages) or get 401
(API); agents and departments may read the calendar but change nothing; a supervisor's
form without the CSRF token is refused."""

from __future__ import annotations

from accounts_support import csrf_token
from content_support import _forget_process_calendar, logged_in, token_for  # noqa: F401

from core.db import get_db
from tickets.seed import seed

PREFIXES = ("kb_editor.", "rules_editor.", "calendar_pages.", "calendar_api.", "kb_api.")
VALUES = {"key": "heating-season", "day": "2027-02-20", "year": "2027"}
READ_ANYONE = {"calendar_pages.year_page", "calendar_api.get_year"}


def routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(PREFIXES):
            continue
        values = {arg: VALUES.get(arg, 1) for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def test_every_content_route_checks_roles_and_csrf(app):
    with app.app_context(), get_db(app).session() as s:
        seed(s)
    found = list(routes(app))
    assert len(found) >= 20
    anonymous = app.test_client()
    anonymous_token = csrf_token(anonymous)
    agent = logged_in(app, "agent1", "agent")
    agent_token = csrf_token(agent, "/account")
    agent_api = token_for(app, "agent2", "agent")
    office = logged_in(app, "office", "supervisor")
    for endpoint, method, path in found:
        api = path.startswith("/api/")
        r = anonymous.open(path, method=method, data={"csrf_token": anonymous_token})
        assert r.status_code == (401 if api else 302), (endpoint, method, r.status_code)
        if api:
            r = anonymous.open(path, method=method, headers=agent_api, json={"kind": "workday"})
        else:
            r = agent.open(path, method=method, data={"csrf_token": agent_token})
        allowed = endpoint in READ_ANYONE and method == "GET"
        assert (r.status_code < 400) if allowed else r.status_code == 403, (
            endpoint,
            method,
            r.status_code,
        )
        if method == "POST" and not api:
            r = office.open(path, method=method, data={})
            assert r.status_code == 400, (endpoint, "no CSRF token", r.status_code)
