"""The ticket's audit trail in words: "类型：咨询求助 → 投诉举报", not stored dictionaries."""

from __future__ import annotations

from tickets.models import CHANNELS, DEMAND_TYPES, SATISFACTION_RESULTS
from tickets.pages import labels

FIELD_NAMES = {
    "demand_type": "类型",
    "topic": "分类",
    "district": "区县",
    "location": "地点",
    "description": "诉求内容",
    "summary": "诉求摘要",
    "department": "部门",
    "from_department": "原部门",
    "note": "备注",
    "reason": "原因",
    "channel": "渠道",
    "confidence": "置信度",
    "chars": "字数",
    "resolution": "第几次办结",
    "article": "知识",
    "result": "结果",
    "comment": "意见",
}
HIDDEN = frozenset({"recording_sid", "attempt_id"})
MAX_VALUE_CHARS = 80


def _department(code) -> str:
    return next((d.name for d in labels.departments().values() if d.code == code), code)


VALUE_LABELS = {
    "demand_type": lambda v: DEMAND_TYPES.get(v, v),
    "topic": lambda v: labels.topics().get(v, v),
    "department": _department,
    "from_department": _department,
    "channel": lambda v: CHANNELS.get(v, v),
    "result": lambda v: SATISFACTION_RESULTS.get(v, v),
    "confidence": lambda v: f"{float(v) * 100:.0f}%",
}


def value_text(field: str, value) -> str:
    if value is None or value == "":
        return "—"
    try:
        text = str(VALUE_LABELS.get(field, str)(value))
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def event_lines(detail: dict | None) -> list[str]:
    """One readable line per field of an event's detail."""
    lines = []
    for field, value in (detail or {}).items():
        if field in HIDDEN:
            continue
        name = FIELD_NAMES.get(field, field)
        if isinstance(value, dict) and set(value) == {"from", "to"}:
            old, new = value_text(field, value["from"]), value_text(field, value["to"])
            lines.append(f"{name}：{old} → {new}")
        else:
            lines.append(f"{name}：{value_text(field, value)}")
    return lines
