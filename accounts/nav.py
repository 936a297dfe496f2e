"""The navigation bar: which pages each role sees, for base.html.

A link appears only when its route exists in this app (some pages are
registered only in simulator mode), so the bar never links to a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from accounts.auth import current_user


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str | None  # a Flask endpoint, or None when `path` is given
    roles: tuple[str, ...]
    path: str | None = None


NAV = (
    NavItem("坐席 Desk", "agents_pages.desk", ("agent", "supervisor")),
    NavItem("市民来电 Call the line", "line.page", ("agent", "supervisor")),  # simulator only
    NavItem("工单 Tickets", "tickets_pages.ticket_list", ("supervisor", "agent")),
    NavItem("部门工单 Inbox", "tickets_pages.inbox", ("department", "supervisor")),
    NavItem("知识库 KB", "tickets_pages.kb_search", ("supervisor", "agent", "department")),
    NavItem("看板 Dashboard", "console.dashboard", ("supervisor",)),
    NavItem("报表 Report", "tickets_pages.report", ("supervisor",)),
    NavItem("话务看板 Wallboard", "agents_pages.wallboard", ("supervisor",)),
    NavItem("话务报表 Call report", "agents_pages.report", ("supervisor",)),
    NavItem("回访 Callbacks", None, ("supervisor",), path="/callbacks/"),
    NavItem("流程 Flow studio", None, ("supervisor",), path="/studio/"),
    NavItem("知识库编辑 KB editor", "kb_editor.index", ("supervisor",)),
    NavItem("分类与转办 Rules", "rules_editor.rules_page", ("supervisor",)),
    NavItem("日历 Calendar", "calendar_pages.year_page", ("supervisor",)),
    NavItem("排班 Planning", None, ("supervisor",), path="/planning/"),
    NavItem("用户 Users", "accounts_admin.users", ("supervisor",)),
)


def _path_exists(path: str) -> bool:
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True


def nav_items() -> list[dict]:
    """Links for the current user: label, url, active."""
    user = current_user()
    if user is None:
        return []
    items = []
    for item in NAV:
        if user.role not in item.roles:
            continue
        if item.endpoint is not None:
            if item.endpoint not in current_app.view_functions:
                continue
            url = url_for(item.endpoint)
        elif _path_exists(item.path):
            url = item.path
        else:
            continue
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"label": item.label, "url": url, "active": active})
    return items
