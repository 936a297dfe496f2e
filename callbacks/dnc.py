"""Do-not-call list import: numbers normalised to E.164 like ticket numbers."""

from __future__ import annotations

import csv
import io

from callbacks import service
from tickets.service import normalize_number

HEADER_WORDS = ("number", "phone", "号码", "电话")


def import_numbers(s, text: str, *, actor: str | None) -> tuple[int, list[str]]:
    """Add every number in the text (one per line, or the first CSV column; a 2nd column is
    kept as a note). Returns (added, lines not understood)."""
    added, bad = 0, []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip() or row[0].strip().startswith("#"):
            continue
        number = normalize_number(row[0])
        if number is None:
            if row[0].strip().lower() not in HEADER_WORDS:
                bad.append(row[0])
            continue
        note = row[1].strip() if len(row) > 1 and row[1].strip() else None
        added += service.add_do_not_call(s, number, source="import", note=note, actor=actor)
    return added, bad
