"""Knowledge-base search page (知识库) for agents, supervisors and departments."""

from __future__ import annotations

from flask import render_template, request

from accounts import role_required
from core.db import get_db
from tickets import kb
from tickets.pages import access, bp, labels

MAX_QUERY_LENGTH = 100


@bp.get("/kb/")
@role_required(*access.KB)
def kb_search():
    q = (request.args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    topic = request.args.get("topic") or None
    results = []
    if q:
        with get_db().session() as s:
            results = kb.search(s, q, topic=topic)
    return render_template(
        "tickets/kb.html", q=q, topic=topic, results=results, topics=labels.topics()
    )
