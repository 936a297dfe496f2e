"""10,000 resolved tickets: surveys scheduled, then dispatched by the scheduler process
against the local fake of Twilio's REST API, with a status callback closing each call.

Prints: tickets resolved (requests persisted) per second; APScheduler jobs created and run
per second in the scheduler process; calls placed per second; the CPS cap check (most
calls created in any one-second window, must be <= CALLBACK_CPS); duplicate calls; the
scheduler process's peak RSS. Everything runs on 127.0.0.1; the run stops by itself.

    .venv/bin/python bench/callbacks_dispatch.py [--tickets 10000] [--cps 100]

Window and holidays are opened (CALLING_DAYS=all, CALLING_WINDOW=00:00-24:00) so the
figures do not depend on the hour the benchmark is run at.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from callbacks import models as m  # noqa: E402
from core import migrate  # noqa: E402
from core.db import Database  # noqa: E402
from telephony.fake_twilio import FakeTwilio  # noqa: E402

SID = "AC" + "0" * 32
TOKEN = "bench-auth-token"
MAX_TICKETS = 50_000
MAX_CPS = 500
TIMEOUT_SECONDS = 1800
BATCH = 500


def config(db_url: str, public: str, api: str, cps: int) -> dict:
    return {
        "DATABASE_URL": db_url,
        "PUBLIC_BASE_URL": public,
        "TWILIO_API_BASE": api,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": SID,
        "TELEPHONY": "twilio",
        "SECRET_KEY": "bench",
        "CALLBACK_DELAY": "PT0S",
        "CALLBACK_CPS": str(cps),
        "CALLBACK_MAX_CONCURRENT": "200",
        "CALLING_DAYS": "all",
        "CALLING_WINDOW": "00:00-24:00",
        "LOG_LEVEL": "WARNING",
    }


def resolve_tickets(app, n: int) -> float:
    """Create, dispatch and resolve n tickets (each resolution requests a survey)."""
    from core.db import get_db
    from tickets import service as tickets
    from tickets.models import Department

    start = time.perf_counter()
    with app.app_context():
        with get_db().session() as s:
            dept = Department(code="bench", name="测试部门")
            s.add(dept)
        for first in range(0, n, BATCH):
            with get_db().session() as s:
                dept = s.merge(dept)
                for i in range(first, min(n, first + BATCH)):
                    t = tickets.create_ticket(
                        s, channel="phone", caller_number=f"+86139{i:08d}", description="x"
                    )
                    tickets.dispatch(s, t, dept, actor="bench")
                    tickets.resolve(s, t, reply="已办结", actor="bench")
    return time.perf_counter() - start


def status_poster(public: str):
    """FakeTwilio's on_call: the call rings out and ends, reported like Twilio would."""
    validator = RequestValidator(TOKEN)
    http = requests.Session()
    lock = threading.Lock()

    def on_call(call) -> None:
        form = {
            "CallSid": call.sid,
            "AccountSid": SID,
            "CallStatus": "completed",
            "CallDuration": "20",
            "AnsweredBy": "human",
            "To": call.to,
        }
        sig = validator.compute_signature(call.status_callback, form)
        with lock:  # one connection is plenty at these rates
            http.post(
                call.status_callback, data=form, timeout=30, headers={"X-Twilio-Signature": sig}
            )

    return on_call, http


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    stamps = sorted(stamps)
    return max(
        (bisect.bisect_left(stamps, t + window) - i for i, t in enumerate(stamps)), default=0
    )


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--cps", type=int, default=100)
    args = ap.parse_args()
    n, cps = min(args.tickets, MAX_TICKETS), min(args.cps, MAX_CPS)

    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    tmp = tempfile.TemporaryDirectory(prefix="bench-callbacks-")
    db_url = f"sqlite:///{tmp.name}/hotline.db"
    migrate.upgrade(db_url)
    from ivr import create_app

    with FakeTwilio(SID, TOKEN) as fake:
        # The web tier (status callbacks) on a free loopback port.
        probe = make_server("127.0.0.1", 0, lambda *a: None)
        port = probe.server_port
        probe.server_close()
        public = f"http://127.0.0.1:{port}"
        cfg = config(db_url, public, fake.base_url, cps)
        app = create_app({**cfg, "AUDIO_DIR": f"{tmp.name}/audio", "TESTING": False})
        web = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        on_call, http = status_poster(public)
        fake.on_call = on_call

        resolved_s = resolve_tickets(app, n)
        print(
            f"resolved {n} tickets (survey requested in the same transaction): "
            f"{n / resolved_s:.0f} tickets/s"
        )

        db = Database(db_url)
        log = open(Path(tmp.name) / "scheduler.log", "wb")  # noqa: SIM115
        env = {**os.environ, **cfg, "FLASK_APP": "ivr", "AUDIO_DIR": f"{tmp.name}/audio"}
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "callbacks", "run", "--holder", "bench"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        marks: dict[str, float] = {}
        rss_samples = []
        try:
            while time.perf_counter() - started < TIMEOUT_SECONDS:
                time.sleep(0.5)
                if proc.poll() is not None:
                    raise SystemExit(
                        f"scheduler exited with {proc.returncode}; "
                        f"log: {Path(tmp.name) / 'scheduler.log'}"
                    )
                rss_samples.append(peak_rss_mb(proc.pid))
                with db.session() as s:
                    counts = dict(
                        s.execute(
                            select(m.CallbackAttempt.state, func.count()).group_by(
                                m.CallbackAttempt.state
                            )
                        ).all()
                    )
                    with_job = s.scalar(
                        select(func.count())
                        .select_from(m.CallbackAttempt)
                        .where(m.CallbackAttempt.job_id.is_not(None))
                    )
                now = time.perf_counter() - started
                if with_job > 0:
                    marks.setdefault("first_job", now)
                if with_job >= n:
                    marks.setdefault("jobs_added", now)
                if counts.get(m.SCHEDULED, 0) == 0 and with_job >= n:
                    marks.setdefault("jobs_run", now)
                if counts.get(m.FINISHED, 0) >= n:
                    marks["finished"] = now
                    break
            else:
                raise SystemExit(f"not finished within {TIMEOUT_SECONDS} s: {counts}")
            rss = peak_rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            log.close()
            web.shutdown()
            http.close()
        stamps = [c.created_at for c in fake.calls]
        per_number = collections.Counter(c.to for c in fake.calls)

    first, last = min(stamps), max(stamps)
    t0 = marks["first_job"]
    print(
        f"scheduler: active {t0:.1f} s after start (process start, app, lease); "
        f"{n} APScheduler jobs added in {marks['jobs_added'] - t0:.1f} s more "
        f"({n / max(marks['jobs_added'] - t0, 0.5):.0f} jobs/s); all jobs run "
        f"{marks['jobs_run'] - t0:.1f} s after the first ({n / max(marks['jobs_run'] - t0, 0.5):.0f} jobs/s)"
    )
    print(
        f"dispatch: {len(stamps)} calls in {last - first:.1f} s = "
        f"{(len(stamps) - 1) / max(last - first, 1e-9):.1f} calls/s at CALLBACK_CPS={cps}; "
        f"all {n} attempts finished {marks['finished']:.1f} s after the scheduler started"
    )
    worst = max_in_window(stamps)
    print(
        f"CPS cap: most calls created in any 1-second window = {worst} "
        f"({'held' if worst <= cps else 'EXCEEDED'}; cap {cps})"
    )
    print(
        f"duplicates: {sum(v - 1 for v in per_number.values())} numbers called more than "
        f"once; {n - len(per_number)} never called"
    )
    print(f"scheduler process peak RSS: {rss:.0f} MB (sampled max {max(rss_samples):.0f} MB)")
    db.dispose()
    app.extensions["db"].dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
