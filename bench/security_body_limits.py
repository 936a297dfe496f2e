"""How long gunicorn takes to refuse hostile bodies, over real HTTP.

Starts `gunicorn wsgi:app` as `scripts/run` does (on a scratch SQLite database),
then posts bodies of `0&1&2&…` (the most form fields per byte) to /ivr/voice with
a junk X-Twilio-Signature, as the outside review did: before the limits a 32 MB
body took a worker 64.7 s and 1.57 GB. Prints, per body size, the time from the
first byte sent to the status line received (goal for 32 MB: < 50 ms), the
status, and the worker's RSS afterwards.

    .venv/bin/python bench/security_body_limits.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load_stack import free_port, rss_kb  # noqa: E402
from core import migrate  # noqa: E402

SETTLE_SECONDS = 20
SIZES = {"64 kB + 1": 64 * 1024 + 1, "8 MB": 8 * 1024 * 1024, "32 MB": 32 * 1024 * 1024}


def many_keys(size: int) -> bytes:
    out, i, n = [], 0, 0
    while n < size:
        part = str(i).encode()
        out.append(part)
        n += len(part) + 1
        i += 1
    return b"&".join(out)[:size]


def refuse_time(port: int, body: bytes) -> tuple[float, int]:
    """Seconds from the first byte sent to the status line, and the status."""
    head = (
        f"POST /ivr/voice HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Twilio-Signature: junk\r\n\r\n"
    ).encode()
    payload = head + body
    sock = socket.create_connection(("127.0.0.1", port))

    def send():
        with contextlib.suppress(OSError):  # the server answered and closed before the end
            sock.sendall(payload)

    started = time.perf_counter()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    status_line = sock.makefile("rb").readline()
    elapsed = time.perf_counter() - started
    sock.close()
    sender.join(timeout=10)
    return elapsed, int(status_line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/hotline.db"
        migrate.upgrade(url)
        port = free_port()
        env = os.environ | {
            "DATABASE_URL": url,
            "TWILIO_AUTH_TOKEN": "bench-auth-token",
            "SECRET_KEY": "bench",
            "HOTLINE_API_TOKEN": "bench",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "AUDIO_DIR": f"{tmp}/audio",
            "RECORDINGS_DIR": f"{tmp}/recordings",
        }
        gunicorn = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--workers", "1", "--threads", "4"]
            + ["--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
            time.sleep(SETTLE_SECONDS)  # the app synthesizes its prompts after start
            worker = int(subprocess.check_output(["pgrep", "-P", str(gunicorn.pid)]).split()[0])
            print(f"load: {os.getloadavg()[0]:.2f} (1-min average), gunicorn 1 worker x 4 threads")
            print(f"worker RSS before: {rss_kb(worker) / 1024:.0f} MiB")
            for name, size in SIZES.items():
                body = many_keys(size)
                runs = [refuse_time(port, body) for _ in range(args.repeat)]
                times = [t * 1000 for t, _ in runs]
                statuses = sorted({s for _, s in runs})
                print(
                    f"{name:>10} of 0&1&2&… ({body.count(b'&') + 1:,} fields): status {statuses}, "
                    f"refused in median {statistics.median(times):.1f} ms, max {max(times):.1f} ms"
                    f" ({args.repeat} runs); worker RSS {rss_kb(worker) / 1024:.0f} MiB"
                )
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)


if __name__ == "__main__":
    main()
