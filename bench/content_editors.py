"""What a supervisor waits for in the content editors, and what the calendar costs a call.

    .venv/bin/python bench/content_editors.py

On a scratch SQLite database (migrated, seeded): the time to save the classification
rules (the labelled set's accuracy is recomputed on every save), and the cost of one
working-day question (core.calendar.is_workday) with 60 office entries, the way due
dates, the calling window and the opening-hours branch ask it.
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import calendar, calendar_store, migrate  # noqa: E402
from core.db import get_db  # noqa: E402
from ivr import create_app  # noqa: E402
from tickets import rulebook  # noqa: E402
from tickets.seed import seed  # noqa: E402

SAVES = 5
LOOKUPS = 200_000
ENTRIES = 60


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        app = create_app(
            {"DATABASE_URL": url, "TESTING": True, "AUDIO_DIR": tmp, "LOG_LEVEL": "WARNING"}
        )
        with app.app_context():
            with get_db().session() as s:
                seed(s)
            timings = []
            for i in range(SAVES):
                with get_db().session() as s:
                    data = copy.deepcopy(rulebook.current(s, "rules").data)
                    data["topics"]["noise"].append({f"噪音{i}": 2})
                    started = time.perf_counter()
                    saved = rulebook.save(s, "rules", data, author="bench")
                    timings.append(time.perf_counter() - started)
            print(
                f"rules save with accuracy on {saved.new.accuracy['n']} labelled requests: "
                f"median {sorted(timings)[len(timings) // 2] * 1000:.0f} ms, "
                f"max {max(timings) * 1000:.0f} ms ({SAVES} saves)"
            )
            with get_db().session() as s:
                for n in range(ENTRIES):
                    day = date(2027, 1, 1) + timedelta(days=3 * n)
                    calendar_store.set_day(s, day, "workday", name=None, actor="bench")
            calendar_store.source(app).invalidate()
            days = [date(2026, 1, 1) + timedelta(days=n % 730) for n in range(LOOKUPS)]
            started = time.perf_counter()
            workdays = sum(calendar.is_workday(d) for d in days)
            elapsed = time.perf_counter() - started
            print(
                f"is_workday with {ENTRIES} entries: {elapsed / LOOKUPS * 1e6:.1f} µs per question "
                f"({LOOKUPS} questions over 2026-2027, {workdays} workdays)"
            )
        app.extensions["db"].dispose()


if __name__ == "__main__":
    main()
