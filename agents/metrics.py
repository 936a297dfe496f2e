"""GET /metrics for operations' monitoring (Prometheus text), protected like the API.

Gauges read on every scrape: callers waiting and agents by status (per queue), calls
in progress (front door), transcriptions waiting (speech); other packages register
their own (callbacks due) through core.metrics. The request-latency histogram by
route comes from core.metrics.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app
from sqlalchemy import func, select

from accounts import api_auth_required
from agents import models as m
from core import metrics
from core.db import get_db, utcnow
from ivr.models import Call
from speech.models import PENDING, RUNNING, SpeechJob

bp = Blueprint("agents_metrics", __name__)
# A call record still open after this long lost its final status: not "in progress".
CALL_STALE = timedelta(hours=4)


@bp.get("/metrics")
@api_auth_required(roles=("supervisor",))
def scrape():
    return Response(metrics.render(current_app), mimetype="text/plain; version=0.0.4")


def _waiting(app) -> dict:
    with get_db(app).session() as s:
        rows = s.execute(
            select(m.QueueCall.queue, func.count())
            .where(m.QueueCall.state.in_(m.OPEN_QUEUE_STATES))
            .group_by(m.QueueCall.queue)
        ).all()
    return {(queue,): count for queue, count in rows}


def _agents(app) -> dict:
    with get_db(app).session() as s:
        rows = s.execute(select(m.Agent.status, func.count()).group_by(m.Agent.status)).all()
    found = {(status,): 0 for status in m.STATUSES}
    found.update({(status,): count for status, count in rows})
    return found


def _calls_in_progress(app) -> int:
    with get_db(app).session() as s:
        return s.scalar(
            select(func.count()).where(
                Call.ended_at.is_(None), Call.started_at > utcnow() - CALL_STALE
            )
        )


def _transcriptions(app) -> int:
    with get_db(app).session() as s:
        return s.scalar(
            select(func.count()).where(
                SpeechJob.status.in_((PENDING, RUNNING)), SpeechJob.kind == "transcribe"
            )
        )


def init_app(app) -> None:
    app.register_blueprint(bp)
    metrics.register(
        app, "hotline_callers_waiting", "Callers waiting in a queue", _waiting, ("queue",)
    )
    metrics.register(app, "hotline_agents", "Agents by presence status", _agents, ("status",))
    metrics.register(
        app, "hotline_calls_in_progress", "Calls through the front door now", _calls_in_progress
    )
    metrics.register(
        app, "hotline_transcriptions_waiting", "Voice messages waiting for text", _transcriptions
    )
