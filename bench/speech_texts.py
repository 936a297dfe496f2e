"""Every Mandarin text the service can speak, walked from where each one lives.

Flows (FLOWS_PATH and examples/, with their built-in messages, the survey and
return-call entries), knowledge-base answers, ticket-status read-backs for each
status, department and topic names as they are read inside those sentences.
Templates are filled with typical values (a ticket number, a date). Used by
bench/speech_pronunciation.py (English switches over all of them) and by the
test that every shipped prompt reaches the engine as pinyin only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_TICKET = "20261126000123"
SAMPLE_VALUES = {
    "position": "3",
    "digits": "2 0 2 6 1 1 2 6 0 0 0 1 2 3",
    "ticket_number": "2 0 2 6 1 1 2 6 0 0 0 1 2 3",
    "reported_on": "11月3日",
    "topic": "供暖",
    "reply": "已协调供热公司于12月1日恢复供暖，室温已达到18摄氏度",
}
MANDARIN = ("zh", "cmn")


@dataclass(frozen=True)
class SpokenText:
    source: str  # where the text lives, e.g. "flows.yaml" or "tickets/data/kb.yaml"
    text: str


def flow_texts(path: Path) -> list[SpokenText]:
    """Every Mandarin prompt of one flow file, placeholders filled with typical values."""
    from ivr.flows import load_flow
    from ivr.flows_cli import prompt_texts

    flow = load_flow(str(path))
    return [SpokenText(path.name, text) for _, text in prompt_texts(flow, path.name, SAMPLE_VALUES)]


def _yaml(path: Path):
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def kb_texts() -> list[SpokenText]:
    data = _yaml(ROOT / "tickets" / "data" / "kb.yaml") or {}
    out = []
    for article in data.get("articles", []):
        for field in ("question", "answer"):
            if article.get(field):
                out.append(SpokenText("tickets/data/kb.yaml", " ".join(article[field].split())))
    return out


def status_texts() -> list[SpokenText]:
    """Ticket read-backs as tickets.service.spoken_status says them, for every status."""
    from tickets.service import spoken_status

    taxonomy = _yaml(ROOT / "tickets" / "data" / "taxonomy.yaml") or {}
    departments = [d["name"] for d in taxonomy.get("departments", [])]
    topics = [t["name"] for t in taxonomy.get("topics", [])]
    out = []
    statuses = ("new", "dispatched", "in_progress", "reopened", "resolved", "callback_done")
    for i, status in enumerate(statuses):
        ticket = SimpleNamespace(
            number=SAMPLE_TICKET,
            status=status,
            department=SimpleNamespace(name=departments[i % len(departments)])
            if departments
            else None,
            due_date=date(2026, 12, 9),
            reply="已联系供热公司上门维修，室温已恢复到18摄氏度。" if i > 3 else None,
        )
        out.append(SpokenText("tickets/service.py spoken_status", spoken_status(ticket)))
    for name in departments:
        out.append(SpokenText("tickets/data/taxonomy.yaml", f"已转交{name}办理。"))
    for name in topics:
        out.append(SpokenText("tickets/data/taxonomy.yaml", f"您于11月3日反映的{name}问题"))
    return out


def spoken_texts() -> list[SpokenText]:
    """All of the above, each text once."""
    from core.config import load_config

    flows = [Path(load_config()["FLOWS_PATH"]), *sorted((ROOT / "examples").glob("*.yaml"))]
    found: list[SpokenText] = []
    for path in dict.fromkeys(p.resolve() for p in flows):
        found += flow_texts(path)
    found += kb_texts() + status_texts()
    seen: set[str] = set()
    return [t for t in found if not (t.text in seen or seen.add(t.text))]
