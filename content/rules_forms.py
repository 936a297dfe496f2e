"""The rules and routing documents as form fields, and back.

Keywords are edited as one line per demand type or topic: words separated by spaces,
`词:3` for a weight other than 1, `=词` for a whole word after segmentation (the notation
of tickets/rules.yaml). District overrides of the routing table are one line each:
`区县 topic department`.
"""

from __future__ import annotations

from tickets.errors import ValidationError

WEIGHT_SEPARATOR = ":"


def keywords_to_text(entries: list) -> str:
    words = []
    for entry in entries or []:
        if isinstance(entry, dict):
            ((word, weight),) = entry.items()
            words.append(f"{word}{WEIGHT_SEPARATOR}{weight:g}" if weight != 1 else str(word))
        else:
            words.append(str(entry))
    return " ".join(words)


def keywords_from_text(field: str, text: str, errors: dict) -> list:
    out: list = []
    for token in (text or "").split():
        word, sep, weight = token.rpartition(WEIGHT_SEPARATOR)
        if not sep:
            out.append(token)
            continue
        try:
            value = float(weight)
        except ValueError:
            errors[field] = f"bad weight in {token!r}: write 词:2"
            continue
        if not word or value <= 0:
            errors[field] = f"bad keyword {token!r}: write 词:2 with a positive weight"
            continue
        out.append({word: int(value) if value.is_integer() else value} if value != 1 else word)
    return out


def rules_from_form(form, types: list[str], topics: list[str]) -> dict:
    errors: dict[str, str] = {}
    data = {
        "demand_types": {"default": form.get("demand_default") or "consultation"},
        "topics": {"default": form.get("topic_default") or "other"},
    }
    for name in types:
        data["demand_types"][name] = keywords_from_text(
            f"dt__{name}", form.get(f"dt__{name}", ""), errors
        )
    for name in topics:
        data["topics"][name] = keywords_from_text(
            f"tp__{name}", form.get(f"tp__{name}", ""), errors
        )
    if errors:
        raise ValidationError(errors)
    return data


def routing_from_form(form, topics: list[str], departments: set[str]) -> dict:
    errors: dict[str, str] = {}
    default = form.get("default") or ""
    if default not in departments:
        errors["default"] = f"unknown department {default!r}"
    table = {}
    for topic in topics:
        code = form.get(f"topic__{topic}") or ""
        if code and code not in departments:
            errors[f"topic__{topic}"] = f"unknown department {code!r}"
        elif code:
            table[topic] = code
    districts: dict[str, dict[str, str]] = {}
    for number, line in enumerate((form.get("districts") or "").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or parts[1] not in topics or parts[2] not in departments:
            errors["districts"] = (
                f"line {number}: {line.strip()!r}: expected '区县 topic department' "
                "with a known topic and department"
            )
            continue
        districts.setdefault(parts[0], {})[parts[1]] = parts[2]
    if errors:
        raise ValidationError(errors)
    return {"default": default, "topics": table, "districts": districts}


def districts_to_text(districts: dict) -> str:
    return "\n".join(
        f"{district} {topic} {dept}"
        for district, table in (districts or {}).items()
        for topic, dept in table.items()
    )
