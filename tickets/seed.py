"""Loading departments, topics and KB articles from tickets/data/ (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import kb, kb_edit, rulebook
from tickets.models import Department, Topic
from tickets.yamlfile import PACKAGE_DIR, load_yaml

TAXONOMY_PATH = PACKAGE_DIR / "data" / "taxonomy.yaml"
KB_PATH = PACKAGE_DIR / "data" / "kb.yaml"
SEED_AUTHOR = "seed"


@dataclass
class SeedResult:
    departments: int = 0
    topics: int = 0
    articles: int = 0


def _upsert(s: Session, model, code: str, **values):
    row = s.scalar(select(model).where(model.code == code)) or model(code=code)
    for name, value in values.items():
        setattr(row, name, value)
    s.add(row)
    return row


def seed(s: Session, taxonomy_path=TAXONOMY_PATH, kb_path=KB_PATH) -> SeedResult:
    """Insert or update every department and topic, insert missing articles; running it twice
    changes nothing."""
    result = SeedResult()
    taxonomy = load_yaml(taxonomy_path)
    for entry in taxonomy.get("departments") or []:
        _upsert(s, Department, entry["code"], name=entry["name"], active=True)
        result.departments += 1
    for order, entry in enumerate(taxonomy.get("topics") or []):
        _upsert(s, Topic, entry["code"], name=entry["name"], sort_order=order, active=True)
        result.topics += 1
    for entry in load_yaml(kb_path).get("articles") or []:
        # The file holds the shipped articles: imported once, then the editor's versions win.
        if kb.get_article(s, entry["key"]) is None:
            kb_edit.create(
                s,
                entry["key"],
                {
                    "question": entry["question"],
                    "answer": entry["answer"],
                    "keywords": " ".join(entry.get("keywords") or []),
                    "topic": entry.get("topic"),
                    "department": entry.get("department"),
                },
                author=SEED_AUTHOR,
            )
        result.articles += 1
    rulebook.import_shipped(s)
    s.flush()
    return result


def districts() -> list[str]:
    return list(load_yaml(TAXONOMY_PATH).get("districts") or [])
