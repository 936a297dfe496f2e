"""Whole scripted calls per second through the simulator phone, over real HTTP.

The app (shipped flows.yaml, a fresh SQLite database in a temporary folder) runs
in a threaded werkzeug server on 127.0.0.1; the phone plays the self-service
script `5,3,wait:1,9` (greeting, menu, knowledge-base answer, goodbye: 6 webhook
requests + status callback) N times in a row. Prints calls/s and per-call p50/p95.

    .venv/bin/python bench/simulator_calls.py [--calls 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAX_CALLS = 500  # a benchmark, bounded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    calls = min(args.calls, MAX_CALLS)

    from werkzeug.serving import make_server

    from core import migrate
    from ivr import create_app
    from simulator.phone import Phone
    from simulator.script import ScriptedCaller, parse_script, run_call
    from simulator.transport import HttpTransport

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "TWILIO_AUTH_TOKEN": "bench-token",
                "PUBLIC_BASE_URL": "http://hotline.bench",
                "TELEPHONY": "simulator",
                "AUDIO_DIR": f"{tmp}/audio",
                "RECORDINGS_DIR": f"{tmp}/rec",
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        durations, requests_made = [], 0
        try:
            with HttpTransport(base, "http://hotline.bench") as transport:
                for _ in range(calls):
                    started = time.perf_counter()
                    phone = Phone.inbound(
                        transport,
                        "bench-token",
                        voice_url="http://hotline.bench/ivr/voice",
                        from_="+8613800000000",
                        to="12345",
                        account_sid="AC" + "0" * 32,
                        status_callback="http://hotline.bench/ivr/status",
                    )
                    run_call(phone, ScriptedCaller(parse_script("5,3,wait:1,9")))
                    durations.append(time.perf_counter() - started)
                    requests_made += phone.state["requests"]
                    assert not any(e["kind"] == "application-error" for e in phone.events)
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
            app.extensions["db"].dispose()
    total = sum(durations)
    q = statistics.quantiles(durations, n=20)
    print(
        f"{calls} calls, {requests_made} webhook requests in {total:.2f} s: "
        f"{calls / total:.1f} calls/s, {requests_made / total:.0f} req/s; per call "
        f"p50 {statistics.median(durations) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
