"""JSON API: agents' presence and the queues' figures.

PUT /api/agents/<username>/presence  {"status": "available|break|offline", "device": "..."}
                                     the agent's own token (or session), or a supervisor's
GET /api/agents/<username>           presence, device, queues and the latest changes
GET /api/agents                      every agent's status (supervisors)
GET /api/queues/<name>               waiting, longest wait, agents by status, today's figures
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from accounts import api_auth_required, current_actor, current_user
from accounts.service import get_user
from agents import presence, stats
from agents.presence import PresenceError
from core.db import get_db

bp = Blueprint("agents_api", __name__, url_prefix="/api")
TAKES_CALLS = ("agent", "supervisor")


@bp.errorhandler(PresenceError)
def _refused(exc: PresenceError):
    return jsonify(error="invalid presence", fields=exc.errors), exc.status


def _may_act_for(username: str) -> bool:
    user = current_user()
    return user is None or user.role == "supervisor" or user.username == username


def agent_json(agent, changes=()) -> dict:
    return {
        "username": agent.username,
        "status": agent.status,
        "reason": agent.reason,
        "since": agent.status_since.isoformat(),
        "device": agent.device,
        "queues": agent.queue_names,
        "history": [
            {
                "at": c.at.isoformat(),
                "from": c.from_status,
                "to": c.to_status,
                "by": c.actor,
                "reason": c.reason,
            }
            for c in changes
        ],
    }


@bp.put("/agents/<username>/presence")
@api_auth_required
def put_presence(username: str):
    if not _may_act_for(username):
        return jsonify(error=f"you may not change {username}'s presence"), 403
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PresenceError({"body": "expected a JSON object with status and/or device"})
    unknown = sorted(set(body) - {"status", "device"})
    if unknown:
        raise PresenceError({k: "unknown field; allowed: status, device" for k in unknown})
    for key in ("status", "device"):
        if key in body and not isinstance(body[key], str):
            raise PresenceError({key: "expected a string"})
    with get_db().session() as s:
        user = get_user(s, username)
        if user is None or not user.active or user.role not in TAKES_CALLS:
            return jsonify(error=f"no agent {username}"), 404
        agent = presence.ensure_agent(s, user.username)
        presence.choose(
            s,
            agent,
            body.get("status"),
            device=body.get("device"),
            actor=current_actor(),
            simulator=current_app.config.get("TELEPHONY") == "simulator",
        )
        s.flush()
        return jsonify(agent_json(agent, presence.history(s, agent.username, 10)))


@bp.get("/agents/<username>")
@api_auth_required
def get_agent(username: str):
    if not _may_act_for(username):
        return jsonify(error=f"you may not see {username}'s presence"), 403
    with get_db().session() as s:
        agent = presence.get_agent(s, username)
        if agent is None:
            return jsonify(error=f"no agent {username}"), 404
        return jsonify(agent_json(agent, presence.history(s, username, 50)))


@bp.get("/agents")
@api_auth_required(roles=("supervisor",))
def list_agents():
    with get_db().session() as s:
        return jsonify(agents=stats.agents_board(s))


@bp.get("/queues/<name>")
@api_auth_required(roles=("supervisor", "agent"))
def queue(name: str):
    with get_db().session() as s:
        return jsonify(stats.queue_now(s, name, tz=current_app.config["HOTLINE_TIMEZONE"]))
