"""Supervisor pages over real HTTP on a filled PostgreSQL: what a browser waits for.

    .venv/bin/python bench/pages_http.py [--size 200000] [--repeat 15]

Creates a private database, fills it with bench/tickets_scale.py's generator (the
seed report's mix over 2024-01-01 .. 2026-11-25), starts the app on 127.0.0.1 with
werkzeug in a thread, logs in like a browser (CSRF token, session cookie) and times
whole page requests: the ticket list with typical filters, a ticket page, a
department inbox, the 30-day dashboard and the 2025 report. Prints p50/p95 per
page; the database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import requests  # noqa: E402
from tickets_scale import ADMIN_URL, fill, p95  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from accounts import service as accounts  # noqa: E402
from core import migrate  # noqa: E402
from core.db import Database, get_db  # noqa: E402
from core.scratch import scratch_database  # noqa: E402
from tickets.seed import seed  # noqa: E402

PASSWORD = "bench password 1"
PAGES = [
    ("list, newest", "/tickets/"),
    ("list, open + department", "/tickets/?status=open&department=3"),
    ("list, topic + month", "/tickets/?topic=heating&from=2025-11-01&to=2025-11-30"),
    ("list, overdue", "/tickets/?overdue=1"),
    ("list, district + topic, page 5", "/tickets/?district=利津县&topic=rural_affairs&page=5"),
    ("list, ticket number", "/tickets/?q=20260315000001"),
    ("ticket page", "/tickets/20260315000001"),
    ("inbox (as department)", "/inbox/"),
    ("dashboard, 30 days", "/dashboard/"),
    ("report, 2025", "/report/?from=2025-01-01&to=2025-12-31"),
]


def login(base: str, username: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    reply = http.post(
        f"{base}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    if reply.status_code != 302:
        raise SystemExit(f"login as {username} failed: HTTP {reply.status_code}")
    return http


def time_pages(base: str, sessions: dict[str, requests.Session], repeat: int) -> None:
    for label, path in PAGES:
        http = sessions["dept" if "inbox" in path else "boss"]
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            reply = http.get(base + path)
            samples.append(1000 * (time.perf_counter() - t0))
            if reply.status_code != 200:
                raise SystemExit(f"{path}: HTTP {reply.status_code}")
        print(
            f"  {label:34s} p50 {statistics.median(samples):7.1f} ms   "
            f"p95 {p95(samples):7.1f} ms   ({len(reply.content) // 1024} KiB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with scratch_database(ADMIN_URL, "bench_pages") as url:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as s:
            seed(s)
        db.dispose()
        print(f"filled {args.size} tickets in {fill(url, args.size):.1f} s")
        from ivr import create_app

        app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
        with app.app_context(), get_db(app).session() as s:
            accounts.create_user(s, "boss", PASSWORD, role="supervisor")
            accounts.create_user(s, "dept", PASSWORD, role="department", department_id=3)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        sessions = {"boss": login(base, "boss"), "dept": login(base, "dept")}
        print(f"whole page requests over HTTP, {args.repeat} runs each:")
        time_pages(base, sessions, args.repeat)
        for http in sessions.values():
            http.close()
        server.shutdown()
        server.server_close()
        get_db(app).dispose()


if __name__ == "__main__":
    main()
