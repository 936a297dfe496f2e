"""The live line (simulator mode): the web phone calling the running app as a citizen.

GET  /simulator/phone/                        the page (supervisors and agents)
POST /simulator/phone/calls                   ring the line, as {"caller": "+86…"}
POST /simulator/phone/calls/<id>              the caller acts: keys, typed speech, a
                                              recording, waiting, hanging up
GET  /simulator/phone/calls/<id>/audio/<n>    the sound of a prompt heard

Unlike the studio's web phone (a sandbox copy of the app), a call here is a real call:
the published flow, the real call records and tickets, the real agent queues. So one
browser can be the citizen in one tab and the agent in another (the agent desk, with
the device sim:desk): the distributor offers the waiting caller to that agent, whose
desk rings. Registered only when TELEPHONY=simulator (elsewhere: 404), since on a real
line the citizens are real.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from accounts import current_actor, role_required
from core.db import get_db
from core.limits import UPLOAD, body_limit
from ivr.flows import FlowError, load_text
from studio import revisions, webphone
from studio.models import FlowRevision, PhoneCall
from studio.views import posted_action

bp = Blueprint("line", __name__, url_prefix="/simulator/phone")
CALLS = ("agent", "supervisor")
CALLER_NUMBER = re.compile(r"\+?[0-9]{3,20}")


def _flows_path() -> Path:
    return Path(current_app.config["FLOWS_PATH"])


def _flow(text: str):
    try:
        return load_text(text, _flows_path().name)
    except FlowError as exc:
        abort(Response(f"the flow has errors: {exc.errors[0]}", 422))


def _published() -> tuple[str, str]:
    """(text, version) of the flow the line runs."""
    with get_db().session() as s:
        rev = revisions.sync_with_disk(s, _flows_path())
        if rev is None:
            abort(409, "no published flow")
        return rev.text, rev.version


def _call(call_id: int) -> tuple[dict, str]:
    """(state, flow text) of one of the signed-in user's live calls, or 404."""
    with get_db().session() as s:
        row = s.get(PhoneCall, call_id)
        if row is None or row.username != current_actor() or row.mode != webphone.LIVE:
            abort(404)
        rev = s.query(FlowRevision).filter_by(version=row.flow_version).first()
        if rev is None:
            abort(410, "the flow this call ran on is gone; start a new call")
        return dict(row.state), rev.text


def _view(call_id: int, text: str, flow, state: dict | None = None):
    with get_db().session() as s:
        row = s.get(PhoneCall, call_id)
        if state is not None:
            row.state = state
        return jsonify(webphone.view(current_app, row, text, flow))


@bp.get("/")
@role_required(*CALLS)
def page():
    return render_template("studio/line.html", caller=webphone.WEB_CALLER, live=True)


@bp.post("/calls")
@role_required(*CALLS)
def start():
    data = request.get_json(silent=True)
    caller = (data.get("caller") if isinstance(data, dict) else None) or webphone.WEB_CALLER
    if not isinstance(caller, str) or not CALLER_NUMBER.fullmatch(caller.strip()):
        abort(Response("caller: a phone number such as +8613800138000", 400))
    text, version = _published()
    flow = _flow(text)
    state = webphone.call_live(current_app, flow, caller.strip())
    with get_db().session() as s:
        row = webphone.keep(
            s, username=current_actor(), mode=webphone.LIVE, version=version, state=state
        )
        call_id = row.id
    return _view(call_id, text, flow)


@bp.post("/calls/<int:call_id>")
@body_limit(UPLOAD)
@role_required(*CALLS)
def act(call_id: int):
    action = posted_action(webphone.LIVE_ACTION_KINDS)
    state, text = _call(call_id)
    flow = _flow(text)
    return _view(call_id, text, flow, webphone.act_live(current_app, flow, state, action))


@bp.get("/calls/<int:call_id>/audio/<int:n>")
@role_required(*CALLS)
def audio(call_id: int, n: int):
    state, text = _call(call_id)
    if not 0 <= n < len(state["events"]):
        abort(404)
    with get_db().session() as s:
        row = s.get(PhoneCall, call_id)
        try:
            body, content_type = webphone.audio_for(current_app, row, text, _flow(text), n)
        except LookupError:
            abort(404)
    return Response(
        body, content_type=content_type, headers={"Cache-Control": "private, max-age=3600"}
    )
