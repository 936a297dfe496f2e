"""Ticket lists: overdue, department inbox, capped counts, text search escaping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import get_db
from tickets import queries, service
from tickets.queries import TicketFilter
from tickets.seed import seed

pytestmark = pytest.mark.store


def test_overdue_inbox_and_capped_count(store_app, monkeypatch):
    with store_app.app_context(), get_db().session() as s:
        seed(s)
        tickets = [
            service.create_ticket(
                s,
                channel="phone",
                caller_number=None,
                topic="heating",
                description=f"暖气 {i}% 不热",
            )
            for i in range(5)
        ]
        for t in tickets[:3]:
            service.route(s, t, actor="sup")
        service.start(s, tickets[0], actor="dept")
        service.resolve(s, tickets[1], reply="已处理", actor="dept")
        today = service.local_today()
        late = today + timedelta(days=40)  # every due date has passed by then
        overdue = queries.overdue(s, today=late)
        assert sorted(t.number for t in overdue.items) == sorted(
            t.number for t in (tickets[0], tickets[2], tickets[3], tickets[4])
        )
        assert queries.overdue(s, today=today).total == 0
        inbox = queries.inbox(s, tickets[0].department_id)
        assert [t.number for t in inbox.items] == [tickets[2].number, tickets[0].number]
        monkeypatch.setattr(queries, "COUNT_LIMIT", 3)
        page = queries.list_tickets(s, TicketFilter(), per_page=2)
        assert (page.total, page.total_exact, page.total_label, page.pages) == (3, False, "3+", 2)
        assert queries.list_tickets(s, TicketFilter(q="1%")).total == 1  # % is literal
        assert queries.list_tickets(s, TicketFilter(q=tickets[4].number)).items == [tickets[4]]
