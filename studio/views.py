"""Flow studio pages under /studio/: edit, validate, diagram, publish, restore, web phone."""

from __future__ import annotations

import re
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from accounts import current_actor, role_required
from core.db import get_db
from core.limits import UPLOAD, body_limit
from ivr.flows import FlowError, load_text, policy
from ivr.flows.placeholders import CALL_VARIABLES
from ivr.flows_cli import prompt_texts, spoken_content
from simulator.phone import Action
from speech.checks import check_prompts
from studio import revisions, webphone, yamledit
from studio.diagram import render_svg
from studio.models import FlowRevision, PhoneCall
from studio.sandbox import sandbox_dir

bp = Blueprint("studio", __name__, url_prefix="/studio")
MAX_FLOW_BYTES = 512 * 1024
MAX_SPEECH_CHARS = 200


def _flows_path() -> Path:
    return Path(current_app.config["FLOWS_PATH"])


def _issues_json(issues) -> list[dict]:
    return [
        {"line": i.line, "path": i.path, "message": i.message, "code": i.code, "text": str(i)}
        for i in issues
    ]


def _json_object() -> dict:
    """The JSON body when it is an object; {} for none, a list, a number or bad JSON."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _revision_id(value) -> int | None:
    """A revision id as posted (JSON number or form text); 400 for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    abort(400, "base_revision_id must be a revision number")


def _posted_text() -> str:
    data = _json_object()
    text = data.get("text") if request.is_json else request.form.get("text")
    if not isinstance(text, str):
        abort(400, "text missing")
    if len(text.encode("utf-8")) > MAX_FLOW_BYTES:
        abort(413)
    return text.replace("\r\n", "\n")


@bp.get("/")
@role_required("supervisor")
def index():
    with get_db().session() as s:
        published = revisions.sync_with_disk(s, _flows_path())
        draft = revisions.get_draft(s, current_actor())
        history = revisions.history(s)
        text = draft.text if draft else (published.text if published else "")
        base_id = draft.base_revision_id if draft else published.id if published else None
        stale = bool(draft and published and draft.base_revision_id != published.id)
        issues = revisions.check(text, _flows_path().name)
        flow = None if issues else load_text(text, _flows_path().name)
        svg = render_svg(flow) if flow else None
        warnings = _pronunciation_warnings(flow, _flows_path().name) if flow else []
        return render_template(
            "studio/index.html",
            text=text,
            base_id=base_id,
            published=published,
            has_draft=draft is not None,
            stale=stale,
            history=history,
            issues=_issues_json(issues),
            warnings=warnings,
            svg=svg,
            file=_flows_path().name,
        )


@bp.post("/validate")
@role_required("supervisor")
def validate():
    """Issues for the editor's text, in `flask flows check` form, and the diagram if valid."""
    text = _posted_text()
    name = _flows_path().name
    try:
        flow = load_text(text, name)
    except FlowError as exc:
        return jsonify(ok=False, issues=_issues_json(exc.errors), svg=None)
    refused = policy.issues(flow, current_app.config)
    if refused:
        return jsonify(ok=False, issues=_issues_json(refused), svg=None)
    return jsonify(
        ok=True,
        issues=[],
        warnings=_pronunciation_warnings(flow, name),
        svg=render_svg(flow),
        version=flow.version,
    )


def _pronunciation_warnings(flow, name: str) -> list[dict]:
    """Prompts whose Mandarin reading is uncertain, as `flask flows check` lists them."""
    items = prompt_texts(flow, name) + spoken_content(current_app)
    found = check_prompts(items, current_app)
    lines = [re.match(r"[^:\s]+:(\d+)", w.where) for w in found]
    return [
        {"line": int(m.group(1)) if m else None, "text": str(w)}
        for w, m in zip(found, lines, strict=True)
    ]


@bp.post("/prompt")
@role_required("supervisor")
def edit_prompt():
    """Replace one node's prompt in the editor's text (ruamel round trip: comments kept)."""
    data = _json_object()
    text, node, say = _posted_text(), data.get("node"), data.get("say")
    if not isinstance(node, str) or not isinstance(say, str):
        abort(400)
    try:
        return jsonify(text=yamledit.set_prompt(text, node, say, data.get("language")))
    except revisions.StudioError as exc:
        return jsonify(error=str(exc)), 422


@bp.post("/draft")
@role_required("supervisor")
def save_draft():
    text = _posted_text()
    base = _revision_id(
        (_json_object() if request.is_json else request.form).get("base_revision_id")
    )
    with get_db().session() as s:
        revisions.save_draft(s, current_actor(), text, base)
    return jsonify(saved=True)


@bp.post("/draft/discard")
@role_required("supervisor")
def discard_draft():
    with get_db().session() as s:
        draft = revisions.get_draft(s, current_actor())
        if draft is not None:
            s.delete(draft)
    flash("草稿已丢弃 Draft discarded", "success")
    return redirect(url_for("studio.index"))


@bp.post("/publish")
@role_required("supervisor")
def publish():
    text = _posted_text()
    message = request.form.get("message", "").strip()
    base = request.form.get("base_revision_id", type=int)
    try:
        with get_db().session() as s:
            rev = revisions.publish(
                s,
                _flows_path(),
                text,
                author=current_actor(),
                message=message,
                base_revision_id=base,
            )
            number = rev.id
    except revisions.InvalidFlow as exc:
        with get_db().session() as s:
            revisions.save_draft(s, current_actor(), text, base)
        flash(f"未发布：流程有错误 Not published — {exc.issues[0]}", "error")
        return redirect(url_for("studio.index"))
    except revisions.StudioError as exc:
        flash(f"未发布 Not published: {exc}", "error")
        return redirect(url_for("studio.index"))
    flash(
        f"已发布修订 {number}，新来电使用新流程 Published revision {number}; "
        "new calls use it, calls in progress keep their version",
        "success",
    )
    return redirect(url_for("studio.index"))


@bp.get("/revisions/<int:rev_id>")
@role_required("supervisor")
def revision(rev_id: int):
    with get_db().session() as s:
        rev = s.get(FlowRevision, rev_id) or abort(404)
        current = revisions.sync_with_disk(s, _flows_path())
        return render_template("studio/revision.html", rev=rev, current=current)


@bp.post("/revisions/<int:rev_id>/restore")
@role_required("supervisor")
def restore(rev_id: int):
    try:
        with get_db().session() as s:
            rev = revisions.restore(s, _flows_path(), rev_id, author=current_actor())
            number = rev.id
    except revisions.StudioError as exc:
        flash(f"未恢复 Not restored: {exc}", "error")
        return redirect(url_for("studio.revision", rev_id=rev_id))
    flash(
        f"已恢复修订 {rev_id}（新修订 {number}）Restored revision {rev_id} as revision {number}",
        "success",
    )
    return redirect(url_for("studio.index"))


# ---- web phone -------------------------------------------------------------------------


def _flow_text(s, mode: str) -> str:
    if mode == "draft":
        draft = revisions.get_draft(s, current_actor())
        if draft is None:
            abort(409, "no draft saved")
        return draft.text
    published = revisions.sync_with_disk(s, _flows_path())
    if published is None:
        abort(409, "no published flow")
    return published.text


def _load_flow(text: str):
    try:
        return load_text(text, _flows_path().name)
    except FlowError as exc:
        abort(Response(f"the flow has errors: {exc.errors[0]}", 422))


def _call_row(s, call_id: int) -> PhoneCall:
    # Locked: a double-clicked key must not run two turns on the same state.
    row = s.get(PhoneCall, call_id, with_for_update=True)
    if row is None or row.username != current_actor():
        abort(404)
    return row


def _row_text(s, row: PhoneCall) -> str:
    """The flow text a web-phone call was started on: the sandbox keeps it by version."""
    path = sandbox_dir(current_app) / f"flows-{row.flow_version}.yaml"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        rev = s.query(FlowRevision).filter_by(version=row.flow_version).first()
        if rev is None:
            abort(410, "the flow this call ran on is gone; start a new call")
        return rev.text


@bp.post("/phone")
@role_required("supervisor")
def phone_start():
    data = _json_object()
    mode = data.get("mode", "published")
    if mode not in ("published", "draft"):
        abort(400)
    with get_db().session() as s:
        if mode == "draft" and isinstance(data.get("text"), str):
            revisions.save_draft(
                s, current_actor(), _posted_text(), _revision_id(data.get("base_revision_id"))
            )
        text = _flow_text(s, mode)
        flow = _load_flow(text)
        row = webphone.start(
            current_app,
            s,
            username=current_actor(),
            mode=mode,
            text=text,
            flow=flow,
            ring=_ring(data, flow),
        )
        return jsonify(webphone.view(current_app, row, text, flow))


def _ring(data: dict, flow) -> webphone.Ring | None:
    """`entry` (an outgoing call of the flow, e.g. survey) and its typed `values`, if any."""
    entry = data.get("entry")
    if not entry:
        return None
    if entry not in flow.entries:
        abort(Response(f"the flow has no entry '{entry}'", 400))
    values = data.get("values") or {}
    if not isinstance(values, dict) or any(
        k not in CALL_VARIABLES or not isinstance(v, str) or len(v) > webphone.MAX_VALUE_CHARS
        for k, v in values.items()
    ):
        abort(400)
    return webphone.Ring(entry, {k: v.strip() for k, v in values.items() if v.strip()})


def posted_action(kinds: tuple[str, ...]) -> Action:
    """The caller's action as the web phone posts it: an uploaded WAV, or JSON
    {"kind": one of `kinds`, "value": keys, typed speech or seconds}; 400/415 otherwise."""
    if request.files.get("audio"):
        audio = request.files["audio"].read()
        if not audio.startswith(b"RIFF"):
            abort(Response("audio must be a WAV file", 415))
        return Action("audio", request.form.get("text") or None, audio=audio)
    data = _json_object()
    kind = data.get("kind")
    if kind not in kinds or kind == "audio":
        abort(400)
    value = data.get("value")
    if kind == "keys" and not (
        isinstance(value, str) and value and all(c in "0123456789*#" for c in value)
    ):
        abort(400)
    if kind == "speech" and not (isinstance(value, str) and 0 < len(value) <= MAX_SPEECH_CHARS):
        abort(400)
    return Action(kind, value if isinstance(value, str | int | float) else None)


@bp.post("/phone/<int:call_id>")
@body_limit(UPLOAD)
@role_required("supervisor")
def phone_act(call_id: int):
    action = posted_action(webphone.ACTION_KINDS)
    with get_db().session() as s:
        row = _call_row(s, call_id)
        text = _row_text(s, row)
        flow = _load_flow(text)
        webphone.act(current_app, s, row, text, flow, action)
        return jsonify(webphone.view(current_app, row, text, flow))


@bp.get("/phone/<int:call_id>/audio/<int:n>")
@role_required("supervisor")
def phone_audio(call_id: int, n: int):
    with get_db().session() as s:
        row = _call_row(s, call_id)
        if not 0 <= n < len(row.state["events"]):
            abort(404)
        text = _row_text(s, row)
        flow = _load_flow(text)
        try:
            body, content_type = webphone.audio_for(current_app, row, text, flow, n)
        except LookupError:
            abort(404)
    return Response(
        body, content_type=content_type, headers={"Cache-Control": "private, max-age=3600"}
    )
