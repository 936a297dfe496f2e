"""Menu-step latency of the IVR webhooks under load on gunicorn, against a bare Flask endpoint.

Both run under the same gunicorn settings (the ones scripts/run uses), bound to
127.0.0.1 only. Calls are opened first; then requests are sent open-loop at a
fixed rate (default 100 req/s): each one is a signed Twilio-style POST pressing
"*" in the self-service menu (a full step: lock the session row, resume the
engine, render TwiML, store session + TwiML + call record). The bare endpoint
returns a constant TwiML string. Prints p50/p99 for both, and the SQL statements
one menu turn sends to the database (counted in-process with SQLAlchemy's
before_cursor_execute on the same kind of database: repeating the menu, and
choosing an option that moves to the next node).

    .venv/bin/python bench/ivr_latency.py [--rate 100] [--seconds 10] [--calls 40]

Goals on the 2-core machine: p50 within 1.5x of the bare endpoint (at most 2.1x), p99
under 50 ms, at most 4 SQL statements per menu turn.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from flask import Flask, Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUNICORN = [
    str(ROOT / ".venv" / "bin" / "gunicorn"),
    "--workers",
    "2",
    "--threads",
    "4",
    "--worker-class",
    "gthread",
    "--log-level",
    "warning",
]
PG_ADMIN = "postgresql+psycopg://root@127.0.0.1:5432/test"
MAX_RATE = 400  # requests/s: a benchmark, not a load test of someone else's machine
MAX_SECONDS = 60
TOKEN = "bench-auth-token"
STEP_RE = re.compile(r"/ivr/step\?s=(\d+)")

bare_app = Flask("bare")


@bare_app.post("/bare")
def bare():
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="x" '
        'numDigits="1"><Say language="zh-CN">bare</Say></Gather></Response>',
        mimetype="text/xml",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app_spec: str, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([*GUNICORN, "--bind", f"127.0.0.1:{port}", app_spec], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return proc
        except requests.RequestException:  # not listening yet, or workers still booting
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"gunicorn on {port} did not start")


class Caller:
    """One call in the self-service menu; its steps must be sent one after another."""

    def __init__(self, base: str, sid: str):
        from telephony.signature import sign

        self.base, self.sid, self.sign = base, sid, sign
        self.session = requests.Session()
        self.step = 0
        self.lock = threading.Lock()

    def post(self, path: str, **form) -> str:
        form = {"CallSid": self.sid, "From": "+8613800000000", "To": "+8605460012345", **form}
        url = self.base + path
        headers = {"X-Twilio-Signature": self.sign(url, form, TOKEN)}
        resp = self.session.post(url, data=form, headers=headers, timeout=10)
        if resp.status_code != 200 or b"<Dial>" in resp.content:
            raise RuntimeError(f"{path}: {resp.status_code} {resp.text[:200]}")
        self.step = int(STEP_RE.search(resp.text).group(1))
        return resp.text

    def open(self) -> None:
        self.post("/ivr/voice")
        self.post(f"/ivr/step?s={self.step}", Digits="1")  # any key: self-service menu

    def menu_step(self) -> float:
        with self.lock:
            t0 = time.perf_counter()
            self.post(f"/ivr/step?s={self.step}", Digits="*")  # repeat the menu
            return time.perf_counter() - t0


def statements_per_turn(url: str, tmp: str) -> dict[str, int]:
    """SQL statements of one menu turn, counted in-process on a database of the same kind."""
    from sqlalchemy import event

    from ivr import create_app
    from telephony.signature import sign

    base = "http://bench.invalid"
    app = create_app(
        {
            "DATABASE_URL": url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_BASE_URL": base,
            "AUDIO_DIR": f"{tmp}/audio",
            "RECORDINGS_DIR": f"{tmp}/rec",
            "FLOWS_PATH": str(ROOT / "flows.yaml"),
            "LOG_LEVEL": "WARNING",
        }
    )
    client = app.test_client()
    form = {"CallSid": "CA" + "9" * 32, "From": "+8613800000000", "To": "+8605460012345"}
    step = 0

    def post(path: str, **extra) -> None:
        nonlocal step
        data = {**form, **extra}
        headers = {"X-Twilio-Signature": sign(base + path, data, TOKEN)}
        resp = client.post(path, data=data, headers=headers)
        if resp.status_code != 200 or b"<Dial>" in resp.data:
            raise RuntimeError(f"{path}: {resp.status_code} {resp.data[:200]!r}")
        step = int(STEP_RE.search(resp.get_data(as_text=True)).group(1))

    seen: list[str] = []
    engine = app.extensions["db"].engine
    listener = lambda conn, cursor, statement, *args: seen.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    counts = {}
    try:
        post("/ivr/voice")
        post(f"/ivr/step?s={step}", Digits="1")  # any key: the self-service menu
        for name, key in (("repeat the menu", "*"), ("choose an option", "1")):
            seen.clear()
            post(f"/ivr/step?s={step}", Digits=key)
            counts[name] = len(seen)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        app.extensions["db"].dispose()
    return counts


def bare_step(session: requests.Session, base: str) -> float:
    t0 = time.perf_counter()
    resp = session.post(base + "/bare", data={"CallSid": "CA", "Digits": "*"}, timeout=10)
    resp.raise_for_status()
    return time.perf_counter() - t0


def open_loop(fn, rate: float, seconds: float, workers: int) -> tuple[list[float], float]:
    """Send fn() at `rate`/s for `seconds`; returns latencies and the worst start lag."""
    total = int(rate * seconds)
    latencies: list[float] = []
    lag = 0.0
    start_at = time.perf_counter() + 0.1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = []
        for i in range(total):
            due = start_at + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            lag = max(lag, time.perf_counter() - due)
            futures.append(pool.submit(fn, i))
        for f in futures:
            latencies.append(f.result())
    return latencies, lag


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


@contextlib.contextmanager
def scratch_db(pg_admin: str | None, tmp: str):
    """A fresh SQLite file, or a scratch PostgreSQL database dropped afterwards."""
    if not pg_admin:
        yield f"sqlite:///{tmp}/bench.db"
        return
    from core.scratch import scratch_database

    with scratch_database(pg_admin, "ivr_bench") as url:
        yield url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        nargs="?",
        const=PG_ADMIN,
        help="run on a scratch PostgreSQL database (default server: %(const)s)",
    )
    args = ap.parse_args()
    rate = min(args.rate, MAX_RATE)
    seconds = min(args.seconds, MAX_SECONDS)

    with (
        tempfile.TemporaryDirectory(prefix="ivr-bench-") as tmp,
        scratch_db(args.postgres, tmp) as url,
    ):
        from core import migrate

        migrate.upgrade(url)
        statements = statements_per_turn(url, tmp)
        ivr_port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{ivr_port}",
            "AUDIO_DIR": f"{tmp}/audio",
            "RECORDINGS_DIR": f"{tmp}/rec",
            "LOG_LEVEL": "WARNING",
            "FLOWS_PATH": str(ROOT / "flows.yaml"),
            "PYTHONPATH": str(ROOT),
        }
        procs = [start("wsgi:app", ivr_port, env)]
        try:
            procs.append(start("bench.ivr_latency:bare_app", bare_port, env))
            base = f"http://127.0.0.1:{ivr_port}"
            print("servers up; opening calls", file=sys.stderr, flush=True)
            callers = [Caller(base, f"CA{i:032d}") for i in range(args.calls)]
            for c in callers:
                c.open()
            # Warm up: the menu prompt is synthesized once and cached (speech package).
            for c in callers:
                c.menu_step()
            time.sleep(3)
            print("measuring the ivr menu step", file=sys.stderr, flush=True)
            ivr, ivr_lag = open_loop(
                lambda i: callers[i % len(callers)].menu_step(), rate, seconds, workers=args.calls
            )
            sessions = threading.local()

            def bare_once(_i):
                if not hasattr(sessions, "s"):
                    sessions.s = requests.Session()
                return bare_step(sessions.s, f"http://127.0.0.1:{bare_port}")

            print("measuring the bare endpoint", file=sys.stderr, flush=True)
            open_loop(bare_once, rate, 1, workers=args.calls)  # warm up
            bare_lat, bare_lag = open_loop(bare_once, rate, seconds, workers=args.calls)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=30)  # gunicorn's graceful stop; slow on a busy machine
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    print(
        f"gunicorn {' '.join(GUNICORN[1:])}; {rate:g} req/s for {seconds:g} s; "
        f"{args.calls} calls; {url.split(':')[0]}"
    )
    for name, lat, lag in (("ivr menu step", ivr, ivr_lag), ("bare flask", bare_lat, bare_lag)):
        print(
            f"{name:14s} n={len(lat):5d}  p50={pct(lat, 50):6.1f}  p90={pct(lat, 90):6.1f}  "
            f"p99={pct(lat, 99):6.1f}  max={max(lat) * 1000:6.1f} ms  "
            f"(worst send lag {lag * 1000:.1f} ms)"
        )
    ratio = pct(ivr, 50) / max(pct(bare_lat, 50), 1e-9)
    print(
        f"p50 ratio ivr/bare = {ratio:.2f} (goal <= 1.5, at most 2.1); "
        f"ivr p99 {pct(ivr, 99):.1f} ms (goal < 50)"
    )
    print(
        "SQL statements per menu turn: "
        + ", ".join(f"{name} {n}" for name, n in statements.items())
        + f" (goal <= 4; {url.split(':')[0]})"
    )


if __name__ == "__main__":
    main()
