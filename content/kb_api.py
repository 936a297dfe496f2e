"""Writing the knowledge base over JSON: POST /api/kb, PUT/DELETE /api/kb/<key>.

Reading (GET /api/kb, GET /api/kb/<key>) is tickets.api's. Writes need a supervisor's
token (or the service token); bad fields are a 400 with a message per field; retiring an
article the published flow reads is a 409 naming the node.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from accounts import api_auth_required, current_actor
from content import kb_forms
from content.kb_usage import in_use_message, nodes_using
from core.db import get_db
from tickets import kb, kb_edit
from tickets.errors import ValidationError
from tickets.serialize import article_to_dict

api = Blueprint("kb_api", __name__, url_prefix="/api/kb")
WRITE = ("supervisor",)


@api.errorhandler(ValidationError)
def _invalid(exc: ValidationError):
    return jsonify(error="invalid input", fields=exc.errors), 400


def _body() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError({"body": "expected a JSON object (Content-Type: application/json)"})
    return payload


def full_dict(s, article) -> dict:
    data = article_to_dict(article)
    data.update(
        valid_from=article.valid_from.isoformat() if article.valid_from else None,
        valid_until=article.valid_until.isoformat() if article.valid_until else None,
        retired=article.retired_at is not None,
        version=article.version,
        updated_by=article.updated_by,
        used_by=nodes_using(article.key, s),
    )
    return data


@api.post("")
@api_auth_required(roles=WRITE)
def create_article():
    payload = _body()
    with get_db().session() as s:
        key = str(payload.pop("key", "") or "")
        values = kb_forms.parse(s, payload, new_key=key)
        if kb.get_article(s, key) is not None:
            return jsonify(error=f"an article {key!r} exists already"), 409
        article = kb_edit.create(s, key, values, author=current_actor())
        body = full_dict(s, article)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for("tickets_api.get_kb_article", key=body["key"])
    return response


@api.put("/<key>")
@api_auth_required(roles=WRITE)
def update_article(key: str):
    payload = _body()
    with get_db().session() as s:
        article = kb.get_article(s, key)
        if article is None:
            return jsonify(error=f"no article {key}"), 404
        payload.pop("key", None)
        values = kb_forms.parse(s, payload, partial=True)
        kb_edit.update(s, article, values, author=current_actor())
        return jsonify(full_dict(s, article))


@api.delete("/<key>")
@api_auth_required(roles=WRITE)
def retire_article(key: str):
    with get_db().session() as s:
        article = kb.get_article(s, key)
        if article is None:
            return jsonify(error=f"no article {key}"), 404
        used = nodes_using(key, s)
        if used:
            return jsonify(error=in_use_message(key, used), nodes=used), 409
        kb_edit.retire(s, article, author=current_actor())
        return jsonify(full_dict(s, article))
