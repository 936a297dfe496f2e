"""Scaled out: load through nginx onto two gunicorn instances; kill one of each kind meanwhile.

Topology (deploy/nginx.conf, README "Scaling out"): nginx -> web1 + web2
(gunicorn), one PostgreSQL, two `flask speech worker`, two `flask callbacks run`
(the second on standby), Twilio's REST API played by FakeTwilio, whose outgoing
satisfaction calls are answered by the simulator phone through nginx.

During the load it SIGKILLs: one gunicorn worker of web2 (its master restarts
it), the whole web1 instance (master and workers), one speech worker, and the
scheduler holding the lease; then replaces flows.yaml by a broken file for a
while (calls must go on, on the last good flow); then starts the killed
processes again, as systemd would. Meanwhile tickets are resolved through the API,
so satisfaction callbacks are being placed while the scheduler dies.

Then it checks: every call the generator made has its call record, every voice
message its ticket (none twice), every voice message is transcribed, every
resolved ticket's callback placed exactly once (no number called twice), and
no webhook failed.

    .venv/bin/python bench/load_scaled.py --calls 60 --seconds 120
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load_calls import LoadGenerator, check_counts, print_paths, summarise  # noqa: E402
from bench.load_stack import ACCOUNT_SID, API_TOKEN, AUTH_TOKEN, Stack  # noqa: E402
from simulator.phone import Action, Phone  # noqa: E402
from simulator.transport import HttpTransport  # noqa: E402
from telephony.fake_twilio import FakeTwilio  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # FakeTwilio's access log
API = {"Authorization": f"Bearer {API_TOKEN}"}
DRAIN_SECONDS = 420
RESTART_AFTER = 20  # seconds before a killed process is started again (as systemd would)


class SurveyAnswerer:
    """FakeTwilio's on_call: the citizen answers the satisfaction call and presses 1."""

    def __init__(self, public_base_url: str, base_url: str):
        self.public_base_url, self.base_url = public_base_url, base_url
        self.errors: list[str] = []
        self.answered = 0
        self.lock = threading.Lock()

    def __call__(self, call) -> None:
        time.sleep(1)  # ringing
        with HttpTransport(self.base_url, self.public_base_url) as http:
            phone = Phone.outbound(
                http,
                AUTH_TOKEN,
                url=call.url,
                from_=call.from_,
                to=call.to,
                account_sid=ACCOUNT_SID,
                call_sid=call.sid,
                status_callback=call.status_callback,
                status_events=call.status_callback_events,
                answered_by="human",
            )
            need = phone.start()
            while need is not None and not phone.ended:
                need = phone.resume(
                    Action("keys", "1") if need.kind == "gather" else Action("hangup")
                )
        bad = [e for e in phone.events if e["kind"] in ("application-error", "http-error")]
        with self.lock:
            self.answered += 1
            self.errors += [f"{call.sid}: {e.get('detail') or e.get('error')}" for e in bad]


def resolve_tickets(base: str, n: int, stop: threading.Event, made: list, errors: list) -> None:
    """Create, dispatch and resolve tickets through the API, one every ~2 s."""
    http = requests.Session()
    try:
        for i in range(n):
            if stop.is_set():
                return
            number = f"+86137{i:08d}"
            try:
                r = http.post(
                    f"{base}/api/tickets",
                    headers=API,
                    timeout=30,
                    json={
                        "channel": "phone",
                        "caller_number": number,
                        "topic": "heating",
                        "description": f"暖气不热 {i}",
                        "demand_type": "complaint",
                    },
                )
                r.raise_for_status()
                ticket = r.json()["number"]
                http.post(
                    f"{base}/api/tickets/{ticket}/dispatch", headers=API, json={}, timeout=30
                ).raise_for_status()
                http.post(
                    f"{base}/api/tickets/{ticket}/resolve",
                    headers=API,
                    timeout=30,
                    json={"reply": "已协调供热公司处理。"},
                ).raise_for_status()
                made.append((ticket, number))
            except requests.RequestException as exc:
                errors.append(f"ticket {i}: {exc}")
            stop.wait(2)
    finally:
        http.close()


def lease_holder_pid(stack: Stack) -> int | None:
    holder = stack.count_str(
        "SELECT holder FROM callback_control WHERE holder IS NOT NULL "
        "AND expires_at > now() LIMIT 1"
    )
    if not holder:
        return None
    tail = holder.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=60, help="concurrent calls")
    ap.add_argument("--seconds", type=float, default=120, help="length of the load")
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--tickets", type=int, default=20, help="tickets resolved via the API")
    args = ap.parse_args(argv)
    with (
        FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake,
        Stack(
            extra_env={
                "TELEPHONY": "twilio",
                "TWILIO_API_BASE": "",
                "CALLBACK_DELAY": "PT1S",
                "CALLING_WINDOW": "00:00-24:00",
                "CALLBACK_CPS": "5",
                "CALLBACK_LEASE_SECONDS": "6",
                "CALLBACK_MAX_CONCURRENT": "20",
            }
        ) as stack,
    ):
        stack.extra_env["TWILIO_API_BASE"] = fake.base_url
        web1 = stack.web("web1", workers=2, threads=8, public=False)
        web2 = stack.web("web2", workers=2, threads=8, public=False)
        base = stack.nginx([web1, web2])
        stack.public_base_url = base
        # Every process must sign and build URLs with nginx's address: restart the web
        # instances now that it is known (nginx retries onto the live one meanwhile).
        for name, url in (("web1", web1), ("web2", web2)):
            stack.stop(name)
            stack.web(name, port=int(url.rsplit(":", 1)[1]), workers=2, threads=8)
        stack.flask("seed", "cli", "tickets", "seed").popen.wait(timeout=120)
        for i in (1, 2):
            stack.flask(f"speech{i}", "speech", "speech", "worker", "--threads", "1")
            stack.flask(f"sched{i}", "scheduler", "callbacks", "run")
            time.sleep(2)  # sched1 takes the lease, sched2 waits on standby
        answerer = SurveyAnswerer(base, base)
        fake.on_call = answerer
        print(
            f"nginx {base} -> {web1}, {web2}; PostgreSQL {stack.db_name}; FakeTwilio "
            f"{fake.base_url}; {args.calls} concurrent calls for {args.seconds:.0f} s"
        )

        gen = LoadGenerator(base, base, scale=args.time_scale)
        # Voice messages are recorded at Twilio: the fake serves them to the speech workers.
        gen.recordings = fake
        stop, made, api_errors = threading.Event(), [], []
        resolver = threading.Thread(
            target=resolve_tickets, args=(base, args.tickets, stop, made, api_errors)
        )
        t0 = time.time()
        gen.set_target(args.calls)
        resolver.start()
        kills = []

        def at(fraction: float) -> None:
            time.sleep(max(0.0, t0 + args.seconds * fraction - time.time()))

        at(0.25)
        worker = stack.children("web2")[0]
        stack.kill_pid(worker)
        kills.append(f"{time.time() - t0:5.1f}s SIGKILL gunicorn worker {worker} of web2")
        at(0.4)
        stack.kill_group("web1")
        kills.append(f"{time.time() - t0:5.1f}s SIGKILL web1 (master and workers)")
        at(0.5)
        stack.kill("speech1")
        kills.append(f"{time.time() - t0:5.1f}s SIGKILL speech1")
        leader = lease_holder_pid(stack)
        victim = next(
            (n for n in ("sched1", "sched2") if stack.procs[n].popen.pid == leader), "sched1"
        )
        stack.kill(victim)
        killed_at = time.time()
        kills.append(f"{time.time() - t0:5.1f}s SIGKILL {victim} (lease holder pid {leader})")
        at(0.55)
        good = stack.flows_path.read_text()
        stack.flows_path.write_text(good.replace("next: notices", "next: nowhere"))
        kills.append(f"{time.time() - t0:5.1f}s flows.yaml replaced by a broken file")
        at(0.75)
        stack.flows_path.write_text(good)
        kills.append(f"{time.time() - t0:5.1f}s flows.yaml restored")
        time.sleep(max(0.0, killed_at + RESTART_AFTER - time.time()))
        stack.web("web1", port=int(web1.rsplit(":", 1)[1]), workers=2, threads=8)
        stack.flask("speech1", "speech", "speech", "worker", "--threads", "1")
        stack.flask(victim, "scheduler", "callbacks", "run")
        kills.append(f"{time.time() - t0:5.1f}s web1, speech1 and {victim} started again")
        at(1.0)
        for line in kills:
            print("  " + line)
        gen.stop()
        stop.set()
        resolver.join(timeout=60)
        load_end = time.time()
        lat, errs = gen.stats.window(t0, load_end)
        print("webhooks:", summarise(lat, errs))
        print_paths(gen.stats)

        # Drain: transcriptions and callbacks finish on the surviving processes.
        deadline = time.time() + DRAIN_SECONDS
        while time.time() < deadline:
            pending_jobs = stack.count(
                "SELECT count(*) FROM speech_jobs WHERE status IN ('pending', 'running')"
            )
            open_requests = stack.count(
                "SELECT count(*) FROM callback_requests WHERE state = 'pending'"
            )
            if not pending_jobs and not open_requests:
                break
            time.sleep(2)
        time.sleep(3)
        counts = check_counts(stack, gen.stats)
        per_number: dict[str, int] = {}
        for call in fake.calls:
            per_number[call.to] = per_number.get(call.to, 0) + 1
        twice = {n: c for n, c in per_number.items() if c > 1}
        transcribed = stack.count(
            "SELECT count(*) FROM tickets WHERE channel = 'voice_message' "
            "AND transcript IS NOT NULL"
        )
        jobs = {
            row: stack.count(f"SELECT count(*) FROM speech_jobs WHERE status = '{row}'")
            for row in ("done", "failed", "pending", "running")
        }
        requests_all = stack.count("SELECT count(*) FROM callback_requests")
        requests_done = stack.count(
            "SELECT count(*) FROM callback_requests WHERE state <> 'pending'"
        )
        placed_attempts = stack.count(
            "SELECT count(DISTINCT call_sid) FROM callback_attempts WHERE call_sid IS NOT NULL"
        )
        surveys = stack.count(
            "SELECT count(DISTINCT ticket_id) FROM callback_requests WHERE kind = 'satisfaction'"
        )
        report = {
            **counts,
            "webhook_errors": errs,
            "voice_messages_transcribed": transcribed,
            "speech_jobs": jobs,
            "tickets_resolved": len(made),
            "satisfaction_requests": surveys,
            "callback_requests (satisfaction + return calls)": requests_all,
            "callback_requests_finished": requests_done,
            "calls_placed_at_twilio": len(fake.calls),
            "attempts_with_a_call": placed_attempts,
            "numbers_called_twice": twice,
            "surveys_answered": answerer.answered,
            "survey_errors": answerer.errors[:5],
            "api_errors": api_errors[:5],
        }
        for key, value in report.items():
            print(f"  {key}: {value}")
        ok = (
            counts["ok"]
            and errs == 0
            and not twice
            and not api_errors
            and surveys == len(made)
            and len(fake.calls) == placed_attempts
            and requests_done == requests_all
            and transcribed == counts["voice_message_tickets"]
            and not answerer.errors
        )
        print("log errors:", stack.errors_in_logs())
        print("RESULT:", "nothing lost, no call placed twice" if ok else "FAILED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
