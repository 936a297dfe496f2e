"""Knowledge-base editor pages (/content/kb/): list, test search, create, edit, retire,
versions with diff and restore, and "listen" (the answer as the phone says it).

Supervisors only; every form carries the CSRF token (accounts checks it).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from accounts import current_actor, role_required
from content import kb_forms
from content.kb_usage import in_use_message, nodes_using
from core.db import get_db
from tickets import kb, kb_edit
from tickets.errors import ValidationError
from tickets.models import Article
from tickets.settings import local_today

bp = Blueprint("kb_editor", __name__, url_prefix="/content/kb")
EDIT = ("supervisor",)
MAX_QUERY = 100
PHONE_LANGUAGE = "zh-CN"


def _article(s, key: str) -> Article:
    article = kb.get_article(s, key)
    if article is None:
        abort(404)
    return article


@bp.get("/")
@role_required(*EDIT)
def index():
    q = (request.args.get("q") or "").strip()[:MAX_QUERY]
    with get_db().session() as s:
        articles = list(
            s.scalars(select(Article).order_by(Article.retired_at.is_not(None), Article.key))
        )
        found = kb.search(s, q) if q else []
        topics, departments = kb_forms.choices(s)
    return render_template(
        "content/kb_index.html",
        articles=articles,
        q=q,
        found=found,
        topics=topics,
        today=local_today(),
    )


def _form_values() -> dict:
    return {name: request.form.get(name, "") for name in (*kb_edit.EDITABLE, "key")}


def _render_form(s, article, form: dict, errors: dict, status: int = 200):
    topics, departments = kb_forms.choices(s)
    history = kb_edit.versions(s, article) if article is not None else []
    used = nodes_using(article.key, s) if article is not None else []
    html = render_template(
        "content/kb_edit.html",
        article=article,
        form=form,
        errors=errors,
        topics=topics,
        departments=departments,
        history=history,
        used=used,
    )
    return html, status


@bp.route("/new", methods=["GET", "POST"])
@role_required(*EDIT)
def new():
    with get_db().session() as s:
        if request.method == "GET":
            return _render_form(s, None, {}, {})
        form = _form_values()
        try:
            key = form.pop("key").strip()
            values = kb_forms.parse(s, form, new_key=key)
            article = kb_edit.create(s, key, values, author=current_actor())
        except ValidationError as exc:
            s.rollback()
            return _render_form(s, None, form, exc.errors, 400)
        key = article.key
    flash(f"已创建 created {key}", "success")
    return redirect(url_for(".edit", key=key))


@bp.route("/<key>", methods=["GET", "POST"])
@role_required(*EDIT)
def edit(key: str):
    with get_db().session() as s:
        article = _article(s, key)
        if request.method == "GET":
            return _render_form(s, article, kb_edit.snapshot(article), {})
        form = _form_values()
        try:
            values = kb_forms.parse(s, {k: v for k, v in form.items() if k != "key"})
            kb_edit.update(s, article, values, author=current_actor())
        except ValidationError as exc:
            s.rollback()
            return _render_form(s, _article(s, key), form, exc.errors, 400)
        version = article.version
    flash(f"已保存 saved: version {version}", "success")
    return redirect(url_for(".edit", key=key))


@bp.post("/<key>/retire")
@role_required(*EDIT)
def retire(key: str):
    with get_db().session() as s:
        article = _article(s, key)
        used = nodes_using(key, s)
        if used:
            flash(in_use_message(key, used), "error")
            return redirect(url_for(".edit", key=key)), 303
        kb_edit.retire(s, article, author=current_actor())
    flash(f"已停用 retired {key}", "success")
    return redirect(url_for(".edit", key=key))


@bp.get("/<key>/versions/<int:number>")
@role_required(*EDIT)
def version(key: str, number: int):
    with get_db().session() as s:
        article = _article(s, key)
        this = kb_edit.get_version(s, article, number)
        if this is None:
            abort(404)
        before = kb_edit.get_version(s, article, number - 1)
        old = before.fields if before is not None else {}
        return render_template(
            "content/kb_version.html",
            article=article,
            version=this,
            before=before,
            changes=kb_edit.changes(old, this.fields),
            answer_diff=kb_edit.answer_diff(old, this.fields),
        )


@bp.post("/<key>/versions/<int:number>/restore")
@role_required(*EDIT)
def restore(key: str, number: int):
    with get_db().session() as s:
        article = _article(s, key)
        try:
            kb_edit.restore(s, article, number, author=current_actor())
        except ValidationError:
            abort(404)
        version_no = article.version
    flash(f"已恢复 restored version {number} as version {version_no}", "success")
    return redirect(url_for(".edit", key=key))


@bp.get("/<key>/listen")
@role_required(*EDIT)
def listen(key: str):
    """The saved answer synthesized exactly as calls hear it (speech's prompt audio)."""
    with get_db().session() as s:
        answer = _article(s, key).answer
    synthesize = current_app.extensions.get("prompt_audio")
    url = synthesize(answer, PHONE_LANGUAGE) if synthesize else None
    if url is None:
        abort(503, "speech synthesis unavailable")
    # The URL is absolute under PUBLIC_BASE_URL (for Twilio); the browser stays on this site.
    return redirect(urlsplit(url).path)
