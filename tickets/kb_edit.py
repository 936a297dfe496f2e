"""Editing the knowledge base: validated fields, a version per save, diff and restore.

Every save (create, edit, retire, restore) writes an ArticleVersion holding the whole
article as it then was, with its author and time, so any state can be compared with
another and brought back. Whether an article may be retired while a flow uses it is for
the caller to decide (the flow is not this package's business).
"""

from __future__ import annotations

import difflib
import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from tickets.errors import ValidationError
from tickets.models import Article, ArticleVersion

EDITABLE = ("question", "answer", "keywords", "topic", "department", "valid_from", "valid_until")
LABELS = {
    "question": "问题",
    "answer": "答复",
    "keywords": "关键词",
    "topic": "分类",
    "department": "部门",
    "valid_from": "生效日期",
    "valid_until": "失效日期",
    "retired": "已停用",
}
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
MAX_QUESTION = 200
MAX_ANSWER = 2000
MAX_KEYWORDS = 500


def _text(errors: dict, payload: dict, name: str, limit: int, required: bool) -> str | None:
    value = payload.get(name)
    if isinstance(value, list) and name == "keywords":
        value = " ".join(str(v) for v in value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = "required"
        return None
    if not isinstance(value, str):
        errors[name] = "must be text"
        return None
    value = " ".join(value.split()) if name == "keywords" else value.strip()
    if len(value) > limit or "\x00" in value:
        errors[name] = f"at most {limit} characters"
    return value


def _date(errors: dict, payload: dict, name: str) -> date | None:
    value = payload.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[name] = "not a date (YYYY-MM-DD)"
        return None


KEY_RULE = "2-80 characters: a-z, 0-9 and '-'"


def parse_fields(
    payload: dict,
    *,
    topics: set[str],
    departments: set[str],
    partial: bool = False,
    new_key: str | None = None,
) -> dict:
    """The editable fields of a request, or ValidationError with a message per field.

    With `partial`, absent fields are left out (PUT of some fields); `new_key` (creation)
    is checked with the rest."""
    if not isinstance(payload, dict):
        raise ValidationError({"body": "expected a JSON object"})
    errors: dict[str, str] = {}
    out: dict = {}
    if new_key is not None and not KEY_PATTERN.match(new_key):
        errors["key"] = KEY_RULE
    limits = {"question": MAX_QUESTION, "answer": MAX_ANSWER, "keywords": MAX_KEYWORDS}
    for name, limit in limits.items():
        if partial and name not in payload:
            continue
        out[name] = _text(errors, payload, name, limit, required=name != "keywords") or (
            "" if name == "keywords" else None
        )
    for name, known in (("topic", topics), ("department", departments)):
        if partial and name not in payload:
            continue
        value = payload.get(name) or None
        if value is not None and value not in known:
            errors[name] = f"unknown {name} {value!r}"
        out[name] = value
    for name in ("valid_from", "valid_until"):
        if not (partial and name not in payload):
            out[name] = _date(errors, payload, name)
    unknown = set(payload) - set(EDITABLE) - {"key"}
    if unknown:
        errors["body"] = f"unknown field(s) {', '.join(sorted(unknown))}; allowed: " + ", ".join(
            EDITABLE
        )
    start, end = out.get("valid_from"), out.get("valid_until")
    if start and end and end < start:
        errors["valid_until"] = "before valid_from"
    if errors:
        raise ValidationError(errors)
    return out


def snapshot(article: Article) -> dict:
    """The article's fields as plain JSON (what a version stores)."""
    data = {name: getattr(article, name) for name in EDITABLE}
    for name in ("valid_from", "valid_until"):
        data[name] = data[name].isoformat() if data[name] else None
    data["retired"] = article.retired_at is not None
    return data


def _record(s: Session, article: Article, action: str, author: str) -> ArticleVersion:
    article.updated_by = author
    s.flush()
    version = ArticleVersion(
        article_id=article.id,
        version=article.version,
        action=action,
        author=author,
        at=utcnow(),
        fields=snapshot(article),
    )
    s.add(version)
    s.flush()
    return version


def _apply(article: Article, values: dict) -> None:
    for name, value in values.items():
        setattr(article, name, value)


def create(s: Session, key: str, values: dict, *, author: str) -> Article:
    if not KEY_PATTERN.match(key or ""):
        raise ValidationError({"key": KEY_RULE})
    if s.scalar(select(Article.id).where(Article.key == key)) is not None:
        raise ValidationError({"key": f"an article {key!r} exists already"})
    article = Article(key=key, version=1, keywords="")
    _apply(article, values)
    s.add(article)
    _record(s, article, "created", author)
    return article


def update(s: Session, article: Article, values: dict, *, author: str) -> Article:
    _apply(article, values)
    article.version += 1
    _record(s, article, "edited", author)
    return article


def retire(s: Session, article: Article, *, author: str) -> Article:
    article.retired_at = article.retired_at or utcnow()
    article.version += 1
    _record(s, article, "retired", author)
    return article


def restore(s: Session, article: Article, version_no: int, *, author: str) -> Article:
    """Bring back the fields of an earlier version (as a new version)."""
    old = get_version(s, article, version_no)
    if old is None:
        raise ValidationError({"version": f"no version {version_no}"})
    fields = dict(old.fields)
    for name in ("valid_from", "valid_until"):
        fields[name] = date.fromisoformat(fields[name]) if fields.get(name) else None
    _apply(article, {name: fields.get(name) for name in EDITABLE})
    article.retired_at = (article.retired_at or utcnow()) if fields.get("retired") else None
    article.version += 1
    _record(s, article, "restored", author)
    return article


def versions(s: Session, article: Article) -> list[ArticleVersion]:
    return list(
        s.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article.id)
            .order_by(ArticleVersion.version.desc())
        )
    )


def get_version(s: Session, article: Article, version_no: int) -> ArticleVersion | None:
    return s.scalar(
        select(ArticleVersion).where(
            ArticleVersion.article_id == article.id, ArticleVersion.version == version_no
        )
    )


def changes(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """Fields that differ between two snapshots: (label, old, new)."""
    return [
        (LABELS.get(name, name), old.get(name), new.get(name))
        for name in (*EDITABLE, "retired")
        if old.get(name) != new.get(name)
    ]


def answer_diff(old: dict, new: dict) -> list[str]:
    """A character-level diff of the answer, as unified lines (answers are one paragraph)."""
    split = re.compile(r"(?<=[。；！？\n])")
    before = [p for p in split.split(old.get("answer") or "") if p]
    after = [p for p in split.split(new.get("answer") or "") if p]
    return list(difflib.unified_diff(before, after, "before", "after", lineterm="", n=1))[2:]


def spoken_answer(s: Session, key: str, today: date) -> str | None:
    """The answer the phone reads: None for a missing, retired or out-of-date article."""
    article = s.scalar(select(Article).where(Article.key == key))
    if article is None or not article.valid_on(today):
        return None
    return article.answer
