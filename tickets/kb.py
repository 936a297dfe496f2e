"""Knowledge base (知识库): articles agents search and the IVR reads aloud.

Search segments the query with jieba, finds articles whose question or keywords
contain a term (SQL LIKE, both backends), and ranks them by matched terms, with
keywords and question counting more than the answer.
"""

from __future__ import annotations

import jieba
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tickets.models import Article
from tickets.settings import local_today

MAX_RESULTS = 20
MAX_TERMS = 12
# Particles and question words that match almost every article.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "是",
        "在",
        "我",
        "你",
        "我们",
        "请问",
        "怎么",
        "如何",
        "什么",
        "哪里",
        "可以",
        "需要",
        "有",
        "没有",
        "一下",
        "和",
        "与",
        "及",
    ]
)
WEIGHTS = {"keywords": 3.0, "question": 2.0, "answer": 0.5}


def get_article(s: Session, key: str) -> Article | None:
    return s.scalar(select(Article).where(Article.key == key))


def terms(query: str) -> list[str]:
    """Search terms of a query: jieba words (search mode), without stopwords, deduplicated."""
    seen: list[str] = []
    for word in jieba.lcut_for_search(query or ""):
        word = word.strip().lower()
        if len(word) < 2 and not word.isdigit() or word in STOPWORDS or word in seen:
            continue
        seen.append(word)
    return seen[:MAX_TERMS]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    s: Session,
    query: str,
    *,
    topic: str | None = None,
    limit: int = MAX_RESULTS,
    include_retired: bool = False,
) -> list[tuple[Article, float]]:
    """Articles matching the query, best first, with their scores (retired and out-of-date
    ones left out unless `include_retired`)."""
    found = terms(query)
    if not found:
        return []
    conditions = []
    for term in found:
        pattern = f"%{_escape_like(term)}%"
        conditions += [
            Article.question.like(pattern, escape="\\"),
            Article.keywords.like(pattern, escape="\\"),
            Article.answer.like(pattern, escape="\\"),
        ]
    stmt = select(Article).where(or_(*conditions))
    if not include_retired:
        # What callers and agents may be told today: not retired, within its validity dates.
        today = local_today()
        stmt = stmt.where(
            Article.retired_at.is_(None),
            or_(Article.valid_from.is_(None), Article.valid_from <= today),
            or_(Article.valid_until.is_(None), Article.valid_until >= today),
        )
    if topic:
        stmt = stmt.where(Article.topic == topic)
    ranked = []
    for article in s.scalars(stmt):
        score = sum(
            weight
            for term in found
            for name, weight in WEIGHTS.items()
            if term in (getattr(article, name) or "").lower()
        )
        ranked.append((article, score))
    ranked.sort(key=lambda pair: (-pair[1], pair[0].key))
    return ranked[:limit]


def upsert_article(
    s: Session,
    *,
    key: str,
    question: str,
    answer: str,
    keywords: list[str] | str = "",
    topic: str | None = None,
    department: str | None = None,
) -> Article:
    """Create or update the article with this key (seeding is idempotent)."""
    if isinstance(keywords, list):
        keywords = " ".join(keywords)
    article = get_article(s, key) or Article(key=key)
    article.question, article.answer = question, answer
    article.keywords, article.topic, article.department = keywords, topic, department
    s.add(article)
    return article
