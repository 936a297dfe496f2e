"""Import a line's older call history from CSV: one row per half hour.

Columns (header row required, names as below, extra columns ignored):

    start                   local start of the half hour: 2025-03-01 08:30 (or ISO 8601 with
                            an offset); must be on the hour or the half hour
    offered                 calls offered in that half hour (whole number ≥ 0)   — required
    answered                calls answered by an agent                          — optional
    abandoned               calls that hung up waiting for an agent             — optional
    answered_within_target  calls answered within the target (15 s)             — optional
    handle_seconds          average handle time of the answered calls (s)       — optional
    surge                   1 when the half hour belongs to a surge (typhoon…)  — optional

Every row is checked before anything is written; an error names the file and line. A half
hour imported again replaces the earlier row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.orm import Session

from planning.models import HistorySlot

REQUIRED = ("start", "offered")
OPTIONAL_INTS = ("answered", "abandoned", "answered_within_target")
COLUMNS = REQUIRED + OPTIONAL_INTS + ("handle_seconds", "surge")
MAX_ROWS = 500_000  # ten years of half hours, with room to spare
MAX_CALLS_PER_SLOT = 100_000


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFileError(ValueError):
    """The file as a whole cannot be read (no header, a required column missing)."""


def _int(row: dict, name: str, line: int, errors: list, *, required: bool = False):
    raw = (row.get(name) or "").strip()
    if not raw:
        if required:
            errors.append(RowError(line, f"{name} is empty"))
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.append(RowError(line, f"{name} {raw!r} is not a whole number"))
        return None
    if not 0 <= value <= MAX_CALLS_PER_SLOT:
        errors.append(RowError(line, f"{name} {value} is out of range 0–{MAX_CALLS_PER_SLOT}"))
        return None
    return value


def _start(raw: str, line: int, tz: ZoneInfo, errors: list) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        errors.append(RowError(line, f"start {raw!r} is not a date and time like 2025-03-01 08:30"))
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    local = moment.astimezone(tz)
    if local.minute not in (0, 30) or local.second or local.microsecond:
        errors.append(RowError(line, f"start {raw!r} is not on the hour or the half hour"))
        return None
    # Stored as UTC like every timestamp here (SQLite keeps the wall time it is given).
    return moment.astimezone(UTC)


def parse(text: str, tz: ZoneInfo) -> tuple[list[HistorySlot], list[RowError]]:
    """Rows as unsaved HistorySlot objects, and every problem found, by line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(
            f"line 1: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
        )
    reader.fieldnames = header
    rows, errors, seen = [], [], {}
    for count, row in enumerate(reader, start=1):
        n = reader.line_num  # physical line: blank lines and quoted newlines count
        if count > MAX_ROWS:
            errors.append(RowError(n, f"more than {MAX_ROWS} rows: split the file"))
            break
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line
        row_errors: list[RowError] = []
        start = _start(row.get("start") or "", n, tz, row_errors)
        offered = _int(row, "offered", n, row_errors, required=True)
        extra = {name: _int(row, name, n, row_errors) for name in OPTIONAL_INTS}
        handle = None
        if (row.get("handle_seconds") or "").strip():
            try:
                handle = float(row["handle_seconds"])
                if not 0 < handle < 86_400:
                    raise ValueError
            except ValueError:
                row_errors.append(
                    RowError(n, f"handle_seconds {row['handle_seconds']!r} is not seconds > 0")
                )
        surge_raw = (row.get("surge") or "0").strip().lower()
        if surge_raw not in ("0", "1", "true", "false", ""):
            row_errors.append(RowError(n, f"surge {surge_raw!r} must be 0 or 1"))
        if start is not None and start in seen:
            row_errors.append(
                RowError(n, f"half hour {row['start'].strip()} already on line {seen[start]}")
            )
        if offered is not None:
            for name, value in extra.items():
                if value is not None and value > offered:
                    row_errors.append(RowError(n, f"{name} {value} is more than offered {offered}"))
        if row_errors:
            errors += row_errors
            continue
        seen[start] = n
        rows.append(
            HistorySlot(
                slot_start=start,
                offered=offered,
                answered=extra["answered"],
                abandoned=extra["abandoned"],
                answered_within_target=extra["answered_within_target"],
                handle_seconds=handle,
                surge=surge_raw in ("1", "true"),
                source="import",
            )
        )
    return rows, errors


def save(s: Session, rows: list[HistorySlot]) -> int:
    """Write rows, replacing any earlier import of the same half hours."""
    starts = [r.slot_start for r in rows]
    for i in range(0, len(starts), 500):
        s.execute(delete(HistorySlot).where(HistorySlot.slot_start.in_(starts[i : i + 500])))
    s.add_all(rows)
    s.flush()
    return len(rows)
