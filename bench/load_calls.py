"""Load: whole calls against gunicorn on PostgreSQL, ramping the number of concurrent calls.

Each concurrent call is a thread playing one caller after another with the
simulator's TwiML-following phone (simulator/phone.py): signed webhooks, the
greeting, notices, the agent queue and its hold URL, the overflow menu by keypad
or by voice (a <Record> matched by the speech grammar), voice messages (a real
WAV, a ticket), self-service by keypad, hang-ups, and status callbacks. Calls are
paced in real time by the phone's own call clock (prompt lengths, hold music,
caller think time) times --time-scale, so "N concurrent calls" means N callers
on the line at once.

Each step adds callers at --arrivals new callers a second (default 10: a threefold
surge over the ~3 a second that keep 300 calls of 1-2 minutes going; --arrivals 50
has a whole step's callers ring within seconds of each other), waits --warmup, then
measures for --step-seconds. Before the calls, the prompt audio cache is filled
(`flask flows prompts`, as scripts/run does).

For each ramp step it prints webhook latency (p50/p95/p99, ms), errors, and the CPU
milliseconds per webhook spent by gunicorn, the speech worker, PostgreSQL and the
generator itself (the figure that does not depend on what else the machine runs), and
reports the largest step with p99 < 200 ms and no error. At the end it counts
call records and tickets in the database against what the generator sent.

The run's copy of flows.yaml keeps the agent line open at any hour (--hours day; the
shipped flow sends callers to a voice message at night and on holidays), so a run at
night measures the same line as one at noon. With --agents N, `flask agents run` and N
simulated agents (SIMULATED_AGENTS, talking --handle seconds) answer the queue: waiting
callers are offered and bridged as on the day line, and "agent" callers keep waiting
for one instead of leaving a message; without it nobody answers and the queue overflows.

With --backlog N, N voice messages are already waiting for transcription when the
calls start, so the speech worker decodes through the whole run (calls before
transcripts: its threads run at background priority); the run prints how many
transcripts were finished meanwhile, and the machine's load average.

    .venv/bin/python bench/load_calls.py                       # 25,50,100 (quick)
    .venv/bin/python bench/load_calls.py --steps 100,200,300,400,500 --step-seconds 90
    .venv/bin/python bench/load_calls.py --steps 300 --backlog 300   # with transcription
    .venv/bin/python bench/load_calls.py --steps 300 --agents 40      # agents answering

All traffic goes to 127.0.0.1; every run is bounded (steps x step-seconds + drain).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.simulated import DbQueueSwitch  # noqa: E402
from bench.load_stack import ACCOUNT_SID, AUTH_TOKEN, Stack, free_port  # noqa: E402
from core.db import Database  # noqa: E402
from simulator.phone import Action, Phone  # noqa: E402
from simulator.recordings import AppRecordings  # noqa: E402
from simulator.transport import HttpTransport  # noqa: E402

P99_GOAL_MS = 200
HOTLINE = "+8605460012345"
MESSAGE_MIN_SECONDS = 60  # a <Record> this long is the voice message; shorter ones are answers
DRAIN_SECONDS = 240  # after a run, calls in progress may take this long to finish
# The caller mix (weights): most wait for an agent, many leave a message at overflow.
MIX = {"agent": 40, "message": 30, "spoken": 10, "self_service": 12, "abandon": 8}
# New callers per second while a step ramps up. 300 calls in progress with calls of
# 1-2 minutes means about 3 arrivals a second; 10 a second is a threefold surge.
# --arrivals 50 replays every caller of a step ringing within seconds of each other.
ARRIVALS_PER_SECOND = 10.0


def voice_wav() -> bytes:
    """A short real voice message (espeak-ng through the simulator's phone voice)."""
    from simulator.voice import speak

    return speak("您好，我家小区的暖气一直不热，麻烦尽快派人来看看。", "zh-CN")


@dataclass
class Stats:
    """Everything the generator sent and saw, shared by all caller threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list = field(default_factory=list)  # (t_end, seconds, path)
    errors: list = field(default_factory=list)  # (t, call_sid, detail)
    calls_started: int = 0
    calls_completed: int = 0
    messages_sent: int = 0
    scenarios: Counter = field(default_factory=Counter)
    call_sids: set = field(default_factory=set)
    message_sids: set = field(default_factory=set)

    def window(self, start: float, end: float) -> tuple[list[float], int]:
        with self.lock:
            lat = [d for t, d, _ in self.latencies if start <= t < end]
            errs = sum(1 for t, *_ in self.errors if start <= t < end)
        return lat, errs


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class PacedTransport:
    """Real HTTP; waits (call clock advance x scale) before each webhook; times each one."""

    def __init__(self, http: HttpTransport, stats: Stats, scale: float, stop: threading.Event):
        self.http, self.stats, self.scale, self.stop = http, stats, scale, stop
        self.phone: Phone | None = None
        self._clock = 0.0

    def request(self, method, url, data=None, headers=None):
        if self.phone is not None and method == "POST":
            clock = self.phone.state["clock"]
            if clock > self._clock:
                time.sleep(min(30.0, (clock - self._clock) * self.scale))
                self._clock = clock
        t0 = time.perf_counter()
        reply = self.http.request(method, url, data=data, headers=headers)
        elapsed = time.perf_counter() - t0
        if method == "POST":
            path = url.split("?", 1)[0].split("/", 3)[-1]
            with self.stats.lock:
                self.stats.latencies.append((time.time(), elapsed, path))
            if reply.status >= 500 or (reply.status >= 300 and "/status" not in path):
                self._error(data, f"HTTP {reply.status} from {path}")
        return reply

    def _error(self, data, detail: str) -> None:
        with self.stats.lock:
            self.stats.errors.append((time.time(), (data or {}).get("CallSid"), detail))


class Caller:
    """Answers the phone's Needs according to one scenario."""

    def __init__(self, scenario: str, rng: random.Random, wav: bytes, *, agents: bool = False):
        self.scenario, self.rng, self.wav = scenario, rng, wav
        self.agents = agents  # agents answer the queue: nobody is bridged by the caller's say
        self.offers, self.patience = 0, rng.randint(2, 6)  # overflow offers before a message
        self.queue_rounds = 0
        self.gathers = 0
        self.sent_message = False

    def answer(self, need) -> Action:
        s, rng = self.scenario, self.rng
        if need.kind == "queue":
            self.queue_rounds += 1
            if s == "abandon" and self.queue_rounds >= rng.randint(1, 3):
                return Action("hangup")
            if s == "agent" and not self.agents and self.queue_rounds >= rng.randint(1, 2):
                return Action("agent", rng.randint(20, 60))
            return Action("wait", 5)  # hold on (the flow offers a message after 15 s)
        if need.kind == "gather":
            self.gathers += 1
            if self.gathers == 1 and s == "self_service":
                return Action("keys", "1")  # barge in: self-service
            if s == "self_service":
                if "numDigits" in need.attrs and need.attrs.get("numDigits") == 14:
                    return Action("keys", f"2026{rng.randint(0, 999):010d}#")
                return Action("keys", rng.choice(["2", "3", "4", "1", "9", "9"]))
            if self.gathers == 1:
                return Action("wait", 1)  # let the greeting play
            if s == "spoken":
                return Action("wait", need.attrs.get("timeout", 5))  # answer by voice next
            if s == "agent" and self.agents:
                # overflow offer: keep waiting for an agent, up to the caller's patience
                self.offers += 1
                return Action("keys", "2" if self.offers < self.patience else "1")
            return Action("keys", "1")  # overflow offer: leave a message
        if need.kind == "record":
            if need.attrs["maxLength"] >= MESSAGE_MIN_SECONDS:
                self.sent_message = True
            return Action("audio", "留言", audio=self.wav)
        if need.kind == "dial":
            return Action("agent", rng.randint(10, 30))
        return Action("hangup")


class LoadGenerator:
    """Keeps `target` calls in progress; each caller thread plays calls back to back."""

    def __init__(
        self,
        base_url: str,
        public_base_url: str,
        *,
        scale: float = 1.0,
        seed: int = 12345,
        wav: bytes | None = None,
    ):
        self.base_url, self.public_base_url = base_url, public_base_url
        self.scale = scale
        self.stats = Stats()
        self.wav = wav or voice_wav()
        self.rng = random.Random(seed)
        # Where <Record>ed audio goes: the app's simulator endpoint, or FakeTwilio (.add_recording).
        self.recordings = None
        # With agents: the switch that tells a waiting caller an agent took it (the app's
        # queue rows, as Twilio's queue would); checked once per hold round.
        self.switch = None
        self._threads: list[tuple[threading.Thread, threading.Event]] = []
        self._n = 0

    def set_target(self, target: int, arrivals_per_second: float = ARRIVALS_PER_SECOND) -> None:
        """Add callers at `arrivals_per_second` (each then plays calls back to back), or
        send the surplus home after their current call."""
        while len(self._threads) < target:
            stop = threading.Event()
            t = threading.Thread(
                target=self._caller_loop,
                args=(stop, self.rng.random()),
                daemon=True,
                name=f"caller-{len(self._threads)}",
            )
            self._threads.append((t, stop))
            t.start()
            time.sleep(1 / arrivals_per_second)
        while len(self._threads) > target:
            _, stop = self._threads.pop()
            stop.set()

    def stop(self, timeout: float = DRAIN_SECONDS) -> None:
        """Let every call in progress finish (no new ones), then return."""
        for _, stop in self._threads:
            stop.set()
        deadline = time.time() + timeout
        for t, _ in self._threads:
            t.join(timeout=max(0.1, deadline - time.time()))
        self._threads = []

    def _caller_loop(self, stop: threading.Event, seed: float) -> None:
        rng = random.Random(seed)
        http = HttpTransport(self.base_url, self.public_base_url)
        try:
            # Spread first calls over a few seconds, as real arrivals are.
            time.sleep(rng.uniform(0, 3))
            while not stop.is_set():
                self.play_call(http, rng, stop)
        finally:
            http.close()

    def play_call(self, http: HttpTransport, rng: random.Random, stop: threading.Event) -> None:
        scenario = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        transport = PacedTransport(http, self.stats, self.scale, stop)
        recordings = self.recordings or AppRecordings(
            transport, self.public_base_url, ACCOUNT_SID, AUTH_TOKEN
        )
        caller_number = f"+86138{rng.randint(0, 99_999_999):08d}"
        phone = Phone.inbound(
            transport,
            AUTH_TOKEN,
            voice_url=self.public_base_url + "/ivr/voice",
            from_=caller_number,
            to=HOTLINE,
            account_sid=ACCOUNT_SID,
            status_callback=self.public_base_url + "/ivr/status",
            recordings=recordings,
            switch=self.switch,
        )
        transport.phone = phone
        caller = Caller(scenario, rng, self.wav, agents=self.switch is not None)
        with self.stats.lock:
            self.stats.calls_started += 1
            self.stats.scenarios[scenario] += 1
            self.stats.call_sids.add(phone.state["call_sid"])
        need = phone.start()
        while need is not None and not phone.ended:
            need = phone.resume(caller.answer(need))
        bad = [e for e in phone.events if e["kind"] in ("application-error", "http-error")]
        with self.stats.lock:
            self.stats.calls_completed += 1
            if caller.sent_message:
                self.stats.messages_sent += 1
                self.stats.message_sids.add(phone.state["call_sid"])
            for e in bad:
                self.stats.errors.append(
                    (time.time(), phone.state["call_sid"], e.get("detail") or e.get("error"))
                )


def summarise(latencies: list[float], errors: int) -> dict:
    ms = [x * 1000 for x in latencies]
    return {
        "requests": len(ms),
        "errors": errors,
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "p99": round(percentile(ms, 99), 1),
        "max": round(max(ms), 1) if ms else 0.0,
        "mean": round(statistics.fmean(ms), 1) if ms else 0.0,
    }


def print_paths(stats: Stats) -> None:
    """Latency per webhook path over the whole run."""
    by_path: dict[str, list[float]] = {}
    with stats.lock:
        for _, d, path in stats.latencies:
            by_path.setdefault(path, []).append(d)
    for path, values in sorted(by_path.items()):
        row = summarise(values, 0)
        print(
            f"  {path:28s} n={row['requests']:6d}  p50 {row['p50']:6.1f}  p99 {row['p99']:6.1f} ms"
        )


def check_counts(stack: Stack, stats: Stats) -> dict:
    """Compare what the database holds with what the generator sent."""
    calls = stack.count("SELECT count(*) FROM ivr_calls")
    open_calls = stack.count("SELECT count(*) FROM ivr_calls WHERE ended_at IS NULL")
    tickets = stack.count(
        "SELECT count(*) FROM tickets WHERE channel = 'voice_message' AND call_sid IS NOT NULL"
    )
    dup = stack.count(
        "SELECT count(*) FROM (SELECT call_sid FROM tickets WHERE call_sid IS "
        "NOT NULL GROUP BY call_sid HAVING count(*) > 1) d"
    )
    return {
        "calls_sent": stats.calls_started,
        "call_records": calls,
        "calls_left_open": open_calls,
        "messages_sent": stats.messages_sent,
        "voice_message_tickets": tickets,
        "duplicate_tickets": dup,
        "ok": calls == stats.calls_started
        and tickets == stats.messages_sent
        and dup == 0
        and open_calls == 0,
    }


TRANSCRIPTS_DONE = "SELECT count(*) FROM speech_jobs WHERE kind = 'transcribe' AND status = 'done'"
TRANSCRIPTS_WAITING = "SELECT count(*) FROM speech_jobs WHERE kind = 'transcribe' AND status IN ('pending', 'running')"


def preload_transcriptions(stack: Stack, base: str, n: int, wav: bytes) -> None:
    """N voice messages (recordings stored, tickets, jobs) waiting for the speech worker."""
    from core.db import Database
    from speech.jobs import enqueue_transcription
    from tickets.service import create_ticket

    http = HttpTransport(base, stack.public_base_url)
    recordings = AppRecordings(http, stack.public_base_url, ACCOUNT_SID, AUTH_TOKEN)
    db = Database(stack.db_url)
    try:
        with db.session() as s:
            for _ in range(n):
                sid = "RE" + uuid.uuid4().hex
                recordings.add_recording(sid, wav)
                url = recordings.recording_url(sid)
                ticket = create_ticket(
                    s,
                    channel="voice_message",
                    caller_number=None,
                    recording_url=url,
                    recording_sid=sid,
                )
                enqueue_transcription(s, ticket_id=ticket.id, recording_url=url, recording_sid=sid)
    finally:
        db.dispose()
        http.close()


def open_all_hours(flows_path: Path) -> None:
    """The run's copy of flows.yaml sends callers to the agents' queue at any hour and on
    holidays, so a run at night measures the same day-time line as one at noon."""
    text = flows_path.read_text(encoding="utf-8")
    day = re.compile(
        r"( +)- when: \{holiday: true\}\n +next: after_hours\n"
        r"( +- when: \{hours: )\"[0-9:]+-[0-9:]+\"(\}\n +next: agent_queue\n)"
    )
    changed, n = day.subn(
        lambda m: f'{m.group(2)}"00:00-24:00"{m.group(3)}'
        f"{m.group(1)}- when: {{holiday: true}}\n{m.group(1)}  next: after_hours\n",
        text,
    )
    if n != 1:
        raise SystemExit("flows.yaml changed: cannot open the opening_hours branch for the run")
    flows_path.write_text(changed, encoding="utf-8")


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_now(stack: Stack | None) -> dict[str, float]:
    """CPU seconds so far: the app's processes, PostgreSQL, and this generator."""
    times = os.times()
    out = {"generator": times.user + times.system}
    if stack is not None:
        out.update(stack.cpu())
    return out


def cpu_per_webhook(before: dict, after: dict, requests: int) -> str:
    """CPU milliseconds per webhook of each process kind over a window, e.g. 'web1 4.2'."""
    if not requests:
        return ""
    return "  ".join(
        f"{name} {1000 * (after[name] - before[name]) / requests:.1f}"
        for name in after
        if name in before
    )


def run_ramp(
    gen: LoadGenerator,
    steps: list[int],
    step_seconds: float,
    warmup: float,
    out=print,
    *,
    stack: Stack | None = None,
    arrivals_per_second: float = ARRIVALS_PER_SECOND,
) -> list[dict]:
    results = []
    for target in steps:
        gen.set_target(target, arrivals_per_second)
        time.sleep(warmup)
        start, cpu_start = time.time(), cpu_now(stack)
        time.sleep(step_seconds)
        lat, errs = gen.stats.window(start, time.time())
        row = {"concurrent": target, **summarise(lat, errs)}
        row["cpu_ms"] = cpu_per_webhook(cpu_start, cpu_now(stack), len(lat))
        row["ok"] = row["errors"] == 0 and row["p99"] < P99_GOAL_MS and row["requests"] > 0
        results.append(row)
        out(
            f"  {target:5d} calls  {row['requests']:6d} webhooks  "
            f"p50 {row['p50']:6.1f}  p95 {row['p95']:6.1f}  p99 {row['p99']:6.1f}  "
            f"max {row['max']:7.1f} ms  errors {row['errors']}  {'ok' if row['ok'] else 'OVER'}"
        )
        out(f"        CPU ms per webhook: {row['cpu_ms']}  ({load_average()})")
        if not row["ok"] and results[-1]["p99"] > 3 * P99_GOAL_MS:
            break  # far past the knee: stop loading the shared machine
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", default="25,50,100", help="concurrent calls per ramp step")
    ap.add_argument("--step-seconds", type=float, default=40)
    ap.add_argument("--warmup", type=float, default=15, help="seconds after each ramp-up")
    ap.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="real seconds per second of call time (1 = real time)",
    )
    ap.add_argument(
        "--arrivals",
        type=float,
        default=ARRIVALS_PER_SECOND,
        help="new callers per second while a step ramps up",
    )
    ap.add_argument(
        "--agents",
        type=int,
        default=0,
        help="simulated agents answering the queue (`flask agents run`, SIMULATED_AGENTS)",
    )
    ap.add_argument("--handle", type=float, default=60, help="agents' talk seconds")
    ap.add_argument(
        "--front",
        choices=("nginx", "none"),
        default="nginx",
        help="nginx in front of gunicorn as scripts/run starts it, or gunicorn alone",
    )
    ap.add_argument(
        "--hours",
        choices=("day", "clock"),
        default="day",
        help="day: the flow's agent line is open whatever the time; clock: as the flow says",
    )
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    ap.add_argument("--speech-workers", type=int, default=1)
    ap.add_argument(
        "--backlog", type=int, default=0, help="voice messages waiting for transcription"
    )
    args = ap.parse_args(argv)
    steps = [int(x) for x in args.steps.split(",")]
    extra = {}
    if args.agents:
        extra = {
            "SIMULATED_AGENTS": str(args.agents),
            "SIMULATED_HANDLE_SECONDS": f"{args.handle:g}",
            "AGENT_WRAP_UP_SECONDS": "5",
        }
    with Stack(extra_env=extra) as stack:
        if args.hours == "day":
            open_all_hours(stack.flows_path)
        port = free_port()  # where callers' webhooks arrive: nginx, or gunicorn alone
        stack.public_base_url = f"http://127.0.0.1:{port}"
        prompts = stack.flask("prompts", "setup", "flows", "prompts")  # as scripts/run does
        if prompts.popen.wait(timeout=300) != 0:
            raise SystemExit(f"flask flows prompts failed: {stack.tail('prompts')}")
        if args.front == "nginx":  # as scripts/run: nginx in front of gunicorn
            upstream = stack.web(workers=args.workers, threads=args.threads, public=False)
            base = stack.nginx([upstream], port=port)
        else:
            base = stack.web(port=port, workers=args.workers, threads=args.threads)
        for i in range(args.speech_workers):
            stack.flask(f"speech{i + 1}", "speech", "speech", "worker", "--threads", "1")
        print(
            f"{'nginx in front of ' if args.front == 'nginx' else ''}"
            f"gunicorn {args.workers}x{args.threads} on {base}, PostgreSQL {stack.db_name}, "
            f"{args.speech_workers} speech worker(s), time scale {args.time_scale}, "
            f"{args.arrivals:g} new callers/s while ramping, "
            f"{args.agents} simulated agents (talk {args.handle:g} s), hours: {args.hours}, "
            f"{os.cpu_count()} cores, {load_average()}"
        )
        if args.agents:
            stack.flask("agents", "agents", "agents", "run")
        gen = LoadGenerator(base, stack.public_base_url, scale=args.time_scale)
        if args.agents:
            gen.switch = DbQueueSwitch(Database(stack.db_url), poll=0)
        if args.backlog:
            preload_transcriptions(stack, base, args.backlog, gen.wav)
        done_before = stack.count(TRANSCRIPTS_DONE)
        t0 = time.time()
        results = run_ramp(
            gen,
            steps,
            args.step_seconds,
            args.warmup,
            stack=stack,
            arrivals_per_second=args.arrivals,
        )
        print(
            f"transcripts finished while the calls ran: {stack.count(TRANSCRIPTS_DONE) - done_before}"
            f" ({stack.count(TRANSCRIPTS_WAITING)} still waiting); {load_average()}"
        )
        gen.stop()
        time.sleep(2)
        counts = check_counts(stack, gen.stats)
        best = max((r["concurrent"] for r in results if r["ok"]), default=0)
        print(f"scenarios: {dict(gen.stats.scenarios)}  ({time.time() - t0:.0f} s)")
        print_paths(gen.stats)
        print(f"largest concurrency with p99 < {P99_GOAL_MS} ms and no error: {best} calls")
        print("counts:", counts)
        if args.agents:
            stays = stack.count_str(
                "SELECT string_agg(state || ' ' || n, ', ') FROM (SELECT state, count(*) n "
                "FROM agent_queue_calls GROUP BY state ORDER BY state) x"
            )
            print(f"queue stays by how they ended: {stays}")
        for _t, sid, detail in gen.stats.errors[:10]:
            print("  error:", sid, detail)
        print("log errors:", stack.errors_in_logs())
        return 0 if counts["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
