"""Tickets at city scale on PostgreSQL: filtered lists and a full-year report.

    .venv/bin/python bench/tickets_scale.py [--size 1000000] [--repeat 20] [--keep]

Creates a private database, migrates it, seeds the taxonomy, fills it with --size
tickets over 2024-01-01 .. 2026-11-25, growing over time, with INSERT ... SELECT FROM generate_series
(the seed report's mix: ~98% phone, 91.85% consultation, top-six topics heaviest),
then times the real code: tickets.queries.list_tickets for typical supervisor
filters (goal p95 < 200 ms) and tickets.reports.period_report + dashboard for 2025
(goal < 2 s). Prints the figures; the database is dropped unless --keep.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from core import migrate  # noqa: E402
from core.db import Database  # noqa: E402
from core.scratch import scratch_database  # noqa: E402
from tickets import queries, reports  # noqa: E402
from tickets.queries import TicketFilter  # noqa: E402
from tickets.seed import seed  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
FIRST_DAY, LAST_DAY = date(2024, 1, 1), date(2026, 11, 25)
TODAY = date(2026, 11, 26)

# One INSERT ... SELECT: every column derived from the series number and random().
FILL_SQL = """
WITH days AS (SELECT CAST(:first AS date) AS first, CAST(:ndays AS int) AS n),
series AS (
  -- Volume grows over time (day = n * u^0.8): about +40% a year, as in the seed's 2019.
  SELECT i, (SELECT first FROM days)
            + floor((SELECT n FROM days) * power(i::float8 / :size, 0.8))::int AS day
  FROM generate_series(0, :size - 1) AS i
),
gen AS (
  SELECT i, day, row_number() OVER (PARTITION BY day ORDER BY i) AS seq, random() AS r1,
         random() AS r2, random() AS r3, random() AS r4, random() AS r5
  FROM series
),
rows AS (
  SELECT *, CASE WHEN r1 < 0.977 THEN 'phone' WHEN r1 < 0.988 THEN 'provincial'
                 WHEN r1 < 0.998 THEN 'web' WHEN r1 < 0.9993 THEN 'wechat'
                 ELSE 'leader_board' END AS channel,
            CASE WHEN r2 < 0.9185 THEN 'consultation' WHEN r2 < 0.9728 THEN 'complaint'
                 WHEN r2 < 0.9891 THEN 'suggestion' ELSE 'other' END AS demand,
            CASE WHEN day > CAST(:today AS date) - 20 THEN
                   (ARRAY['new','dispatched','in_progress','resolved','reopened'])[1 + (r4 * 5)::int % 5]
                 ELSE (ARRAY['closed','closed','closed','callback_done','resolved'])[1 + (r4 * 5)::int % 5]
            END AS status
  FROM gen
)
INSERT INTO tickets (number, opened_on, channel, caller_number, demand_type, topic, district,
                     description, status, due_date, resolution_count, resolved_on,
                     satisfaction, department_id, created_at, updated_at)
SELECT to_char(day, 'YYYYMMDD') || lpad(seq::text, 6, '0'), day, channel,
       '+86138' || lpad((i % 100000000)::text, 8, '0'), demand,
       (ARRAY['rural_affairs','rural_affairs','property_management','property_management',
              'consumer_rights','consumer_rights','housing_fund','housing_fund','heating',
              'heating','noise','noise','utilities','roads_traffic','wage_arrears','education',
              'medical_insurance','vaccines','environment','urban_management','public_transport',
              'social_security','household_registration','market_supervision','vehicle_admin',
              'commerce','other'])[1 + (r3 * 27)::int % 27],
       (ARRAY['东营区','河口区','垦利区','利津县','广饶县','东营经济技术开发区',
              '东营港经济开发区','农高区'])[1 + (r5 * 8)::int % 8],
       (ARRAY['暖气不热室温不达标','小区电梯坏了物业不修','请问公积金怎么提取',
              '楼下广场舞噪音扰民','健身房办卡后关门不退钱','村里灌溉没有水',
              '工地拖欠农民工工资','孩子上学划片咨询'])[1 + (r5 * 997)::int % 8]
         || ' #' || i,
       status, day + CASE WHEN demand = 'complaint' THEN 18 ELSE 5 END,
       CASE WHEN status IN ('resolved','callback_done','closed') THEN 1 ELSE 0 END,
       CASE WHEN status IN ('resolved','callback_done','closed')
            THEN day + (r4 * r4 * 12)::int END,
       CASE WHEN status IN ('callback_done','closed')
            THEN (ARRAY['satisfied','satisfied','satisfied','basically_satisfied',
                        'dissatisfied'])[1 + (r1 * 997)::int % 5] END,
       CASE WHEN status <> 'new' THEN 1 + (r3 * 20)::int % 20 END,
       (day + make_interval(secs => r2 * 86399)) AT TIME ZONE 'Asia/Shanghai',
       now()
FROM rows
"""

LIST_CASES: list[tuple[str, TicketFilter, int]] = [
    ("newest, no filter", TicketFilter(), 1),
    (
        "open tickets of one department",
        TicketFilter(statuses=["dispatched", "in_progress", "reopened"], department="housing"),
        1,
    ),
    (
        "topic + one month",
        TicketFilter(topic="heating", date_from=date(2025, 11, 1), date_to=date(2025, 11, 30)),
        1,
    ),
    ("overdue", TicketFilter(overdue=True, today=TODAY), 1),
    ("channel + demand type", TicketFilter(channel="wechat", demand_type="complaint"), 1),
    (
        "district + topic + status",
        TicketFilter(district="利津县", topic="rural_affairs", statuses=["closed"]),
        1,
    ),
    (
        "date range, page 40",
        TicketFilter(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)),
        40,
    ),
    ("ticket number", TicketFilter(q="20260315000001"), 1),
]
TEXT_CASES = [
    ("text search, one month", TicketFilter(q="电梯坏了", date_from=date(2026, 11, 1)), 1),
    ("text search, rare word, all tickets", TicketFilter(q="不存在的词"), 1),
]


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def fill(url: str, size: int) -> float:
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(FILL_SQL),
            {
                "first": FIRST_DAY,
                "ndays": (LAST_DAY - FIRST_DAY).days + 1,
                "size": size,
                "today": TODAY,
            },
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE tickets"))
    engine.dispose()
    return time.perf_counter() - started


def time_lists(db: Database, repeat: int, cases) -> None:
    for label, f, page in cases:
        samples, total = [], 0
        for _ in range(repeat):
            with db.session() as s:
                t0 = time.perf_counter()
                result = queries.list_tickets(s, f, page=page, per_page=25)
                samples.append(1000 * (time.perf_counter() - t0))
                total = result.total
        print(
            f"  {label:36s} p50 {statistics.median(samples):7.1f} ms   "
            f"p95 {p95(samples):7.1f} ms   ({total} matching)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    with scratch_database(ADMIN_URL, "bench_tickets", keep=args.keep) as url:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as s:
            seed(s)
        seconds = fill(url, args.size)
        print(
            f"filled {args.size} tickets in {seconds:.1f} s "
            f"({args.size / seconds:,.0f} rows/s, incl. VACUUM ANALYZE)"
        )
        print(f"filtered list, 25 per page, {args.repeat} runs each (goal p95 < 200 ms):")
        time_lists(db, args.repeat, LIST_CASES)
        time_lists(db, args.repeat, TEXT_CASES)
        report_runs, dash_runs = [], []
        for _ in range(3):
            with db.session() as s:
                t0 = time.perf_counter()
                report = reports.period_report(s, date(2025, 1, 1), date(2025, 12, 31))
                t1 = time.perf_counter()
                dash = reports.dashboard(s, date(2025, 1, 1), date(2025, 12, 31), today=TODAY)
                report_runs.append(t1 - t0)
                dash_runs.append(time.perf_counter() - t1)
        print(
            f"full-year period report 2025 (goal < 2 s): best {min(report_runs):.2f} s, "
            f"worst {max(report_runs):.2f} s"
        )
        print(
            f"full-year dashboard 2025: best {min(dash_runs):.2f} s, worst {max(dash_runs):.2f} s"
        )
        print(
            f"  {report.total} tickets, growth {report.growth_pct}% vs previous year, "
            f"workday daily average {report.workday_avg_start} -> {report.workday_avg_end}, "
            f"top six: {', '.join(n for _, n, _ in report.top_topics)}, "
            f"on time {dash['on_time']['rate']}%, satisfied {dash['satisfaction']['rate']}%"
        )
        db.dispose()
        if args.keep:
            print(f"kept database {url}")


if __name__ == "__main__":
    main()
