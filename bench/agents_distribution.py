"""Distribution under load: 300 callers at once, N agents, two distributors racing.

The app runs as in production: gunicorn (2 workers x 8 threads) on a private
PostgreSQL database (bench/load_stack.py). Callers post the real signed webhooks over
HTTP, hear the greeting and enter the `agents` queue; some hang up while waiting.
Agents are the
local Twilio fake's calls: the distributor places each agent leg through the real
TwilioPort over HTTP, the fake "rings" (0.2-1.5 s; a few agents never answer), then
answers like Twilio: the answer URL's <Dial><Queue> takes the head of a FIFO that
stands in for Twilio's queue, <Queue url> is fetched for that caller, the agent talks
(--handle seconds +-50 %), hangs up, and wraps up (--wrap-up s).

Printed: enqueue->offer latency (from the caller entering the queue, or from the
agent becoming free when every agent was busy: what the distributor controls) to the
decision and to the agent's phone being rung, p50/p95/max, double offers (an agent with two live offers, or a caller with two), callers lost
(neither answered nor hung up at the end), and the callers' webhook p50/p99 with the
distributors running vs a baseline run of the same callers without them.

    .venv/bin/python bench/agents_distribution.py                 # 300 callers, 40 agents
    .venv/bin/python bench/agents_distribution.py --callers 60 --agents 10 --arrival 5

Everything stays on 127.0.0.1; a run is bounded by --timeout.
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import sys
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from accounts.service import create_user  # noqa: E402
from agents import models as m  # noqa: E402
from agents.distribution import DISPATCH_INTERVAL_SECONDS, Distributor  # noqa: E402
from agents.presence import SYSTEM, change_status, ensure_agent  # noqa: E402
from bench.load_stack import ACCOUNT_SID, AUTH_TOKEN, ROOT, Stack  # noqa: E402
from core.db import Database  # noqa: E402
from telephony.fake_twilio import FakeTwilio  # noqa: E402
from telephony.signature import sign  # noqa: E402
from telephony.twilio_port import TwilioPort  # noqa: E402

P95_GOAL_SECONDS = 2.0
NOT_ANSWERING = 0.03  # share of agent legs that ring out
ABANDONING = 0.1  # share of callers who hang up while waiting
WARM_UP_SECONDS = 20  # the web workers synthesize the flow's prompts in the background
RING_SECONDS = (
    5  # scaled down with the handle time (the line's default is 20; 5 is the least allowed)
)


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Line:
    """Signed posts to the app, and the FIFO standing in for Twilio's queue."""

    def __init__(self, base: str):
        self.base = base
        self.fifo: collections.deque[str] = collections.deque()
        self.lock = threading.Lock()
        self.bridged: dict[str, threading.Event] = {}
        self.talk_over: dict[str, threading.Event] = {}
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.local = threading.local()

    def post(self, url: str, form: dict, *, timed: bool = False) -> ET.Element:
        full = url if url.startswith("http") else self.base + url
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        started = time.perf_counter()
        try:
            resp = session.post(
                full,
                data=form,
                headers={"X-Twilio-Signature": sign(full, form, AUTH_TOKEN)},
                timeout=30,
            )
        except requests.RequestException as exc:
            with self.lock:
                self.errors.append(f"{url}: {exc}")
            return ET.fromstring("<Response/>")
        if timed:
            with self.lock:
                self.latencies.append(time.perf_counter() - started)
        if resp.status_code != 200:
            with self.lock:
                self.errors.append(f"{url}: HTTP {resp.status_code}")
            return ET.fromstring("<Response/>")
        return ET.fromstring(resp.text or "<Response/>")


def caller(line: Line, sid: str, i: int, *, abandon_after: float | None, deadline: float):
    form = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": f"+86138{i:08d}", "To": "12345"}
    line.bridged[sid], line.talk_over[sid] = threading.Event(), threading.Event()
    twiml = line.post("/ivr/voice", {**form, "CallStatus": "ringing"}, timed=True)
    redirect = twiml.find("Redirect")
    if redirect is not None:  # no key during the greeting: on to the queue
        twiml = line.post(redirect.text, form, timed=True)
    enqueue = twiml.find("Enqueue")
    if enqueue is None:
        with line.lock:
            line.errors.append(f"{sid}: not queued")
        return
    with line.lock:
        line.fifo.append(sid)
    wait = abandon_after if abandon_after is not None else max(0.0, deadline - time.time())
    if not line.bridged[sid].wait(wait):
        with line.lock:
            gone = sid in line.fifo
            if gone:
                line.fifo.remove(sid)
        if gone:
            line.post(enqueue.get("action"), {**form, "QueueResult": "hangup"}, timed=True)
            line.post("/ivr/status", {**form, "CallStatus": "completed"}, timed=True)
            return
        line.bridged[sid].wait(5)  # an agent took the caller just as they gave up
    line.talk_over[sid].wait(max(0.0, deadline - time.time()))
    line.post(enqueue.get("action"), {**form, "QueueResult": "bridged"}, timed=True)
    line.post("/ivr/status", {**form, "CallStatus": "completed"}, timed=True)


def agent_leg(line: Line, call, *, handle: float, rng: random.Random):
    """What Twilio does with an agent leg the distributor placed."""
    form = {"CallSid": call.sid, "AccountSid": ACCOUNT_SID, "From": call.from_, "To": call.to}
    time.sleep(rng.uniform(0.2, 1.5))  # ringing
    if call.status == "canceled":  # the distributor hung up: the caller left
        line.post(call.status_callback, {**form, "CallStatus": "canceled"})
        return
    if rng.random() < NOT_ANSWERING:
        time.sleep(max(0.0, RING_SECONDS - 1.5))
        line.post(call.status_callback, {**form, "CallStatus": "no-answer"})
        return
    twiml = line.post(call.url, {**form, "CallStatus": "in-progress"})
    queue = twiml.find("Dial/Queue")
    head = None
    if queue is not None:
        with line.lock:
            head = line.fifo.popleft() if line.fifo else None
    if head is None:
        line.post(call.status_callback, {**form, "CallStatus": "completed"})
        return
    line.post(
        queue.get("url"), {**form, "CallSid": head, "DequeingCallSid": call.sid, "QueueTime": "1"}
    )
    line.bridged[head].set()
    time.sleep(handle * rng.uniform(0.5, 1.5))
    line.post(call.status_callback, {**form, "CallStatus": "completed"})
    line.talk_over[head].set()


def add_agents(db: Database, count: int) -> None:
    with db.session() as s:
        for i in range(count):
            name = f"bench-agent-{i}"
            create_user(s, name, "bench-password-1", role="agent")
            agent = ensure_agent(s, name, device=f"+86139{i:08d}")
            change_status(s, agent, m.AVAILABLE, actor=SYSTEM)


def run_callers(line: Line, args, prefix: str, rng: random.Random, deadline: float) -> None:
    """Callers arriving evenly over --arrival seconds; each waits for an agent, some give up."""
    threads = []
    for i in range(args.callers):
        abandon = rng.uniform(3, 20) if rng.random() < ABANDONING else None
        t = threading.Thread(
            target=caller,
            args=(line, f"{prefix}{i:032x}", i),
            kwargs={"abandon_after": abandon, "deadline": deadline},
            daemon=True,
        )
        threads.append(t)
        t.start()
        time.sleep(args.arrival / args.callers)
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.time()))


def distribute(d: Distributor, stopping: threading.Event, decided: list) -> None:
    """The distributor's loop, keeping each offer's decision time."""
    while not stopping.is_set():
        decided.extend((c.decided_after, c.offered_after) for c in d.tick().offered)
        stopping.wait(DISPATCH_INTERVAL_SECONDS)


def figures(db: Database, prefix: str) -> dict:
    with db.session() as s:
        stays = list(s.scalars(select(m.QueueCall).where(m.QueueCall.call_sid.like(prefix + "%"))))
        offers = list(s.scalars(select(m.Offer).order_by(m.Offer.created_at)))
    double, details = 0, []
    live_by_agent: dict[int, list] = collections.defaultdict(list)
    for o in offers:  # an agent rung while an earlier offer to them was still live
        created = m.aware(o.created_at)
        ended = m.aware(o.ended_at) or datetime.max.replace(tzinfo=UTC)
        for other, _, end in live_by_agent[o.agent_id]:
            if end > created:
                double += 1
                details.append(("agent", other, o))
        live_by_agent[o.agent_id].append((o, created, ended))
    by_stay = collections.defaultdict(list)
    for o in offers:
        if o.bridged_at is not None:
            by_stay[o.queue_call_id].append(o)
    for group in by_stay.values():  # one caller bridged to two agents
        if len(group) > 1:
            double += 1
            details.append(("caller", *group[:2]))
    for kind, a, b in details[:5]:
        print(
            f"double ({kind}): offer {a.id} {a.state}/{a.result} {a.created_at}..{a.ended_at} "
            f"and offer {b.id} {b.state}/{b.result} {b.created_at}..{b.ended_at}"
        )
    states = collections.Counter(x.state for x in stays)
    return {"double": double, "lost": states[m.WAITING] + states[m.OFFERING], "states": states}


def always_open_flow(path: Path) -> None:
    """The shipped flow, open around the clock (the bench may run at night in Shanghai)."""
    text = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("    default: after_hours\n", "    default: agent_queue\n", 1))


def warm_up(line: Line) -> None:
    """First requests load the flow and synthesize prompts: not part of the figures."""
    for i in range(3):
        form = {"CallSid": f"CW{i:032x}", "AccountSid": ACCOUNT_SID, "From": "+8613900000000"}
        line.post("/ivr/voice", {**form, "To": "12345", "CallStatus": "ringing"})
        line.post("/ivr/status", {**form, "To": "12345", "CallStatus": "completed"})
    time.sleep(WARM_UP_SECONDS)
    line.latencies.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=300)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--handle", type=float, default=6.0, help="mean talk seconds")
    parser.add_argument("--wrap-up", type=int, default=1)
    parser.add_argument("--arrival", type=float, default=20.0, help="seconds for all to call")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    env = {"AGENT_WRAP_UP_SECONDS": str(args.wrap_up), "AGENT_RING_SECONDS": str(RING_SECONDS)}
    with Stack(extra_env=env) as stack:
        always_open_flow(stack.flows_path)
        base = stack.web(workers=2, threads=8)
        db = Database(stack.db_url)
        rng = random.Random(args.seed)

        add_agents(db, args.agents)
        line = Line(base)
        warm_up(line)
        legs_rng = random.Random(args.seed + 1)
        fake = FakeTwilio(
            ACCOUNT_SID,
            AUTH_TOKEN,
            on_call=lambda call: agent_leg(line, call, handle=args.handle, rng=legs_rng),
        )
        with fake:
            stopping = threading.Event()
            distributors = [
                Distributor(
                    Database(stack.db_url),
                    TwilioPort(ACCOUNT_SID, AUTH_TOKEN, "+8605460012345", fake.base_url),
                    base_url=base,
                    ring_seconds=RING_SECONDS,
                )
                for _ in range(2)
            ]
            decided: list[float] = []
            workers = [
                threading.Thread(target=distribute, args=(d, stopping, decided), daemon=True)
                for d in distributors
            ]
            for w in workers:
                w.start()
            started = time.time()
            run_callers(line, args, "CA", rng, time.time() + args.timeout)
            took = time.time() - started
            time.sleep(args.wrap_up + 1)
            stopping.set()
            for w in workers:
                w.join(timeout=5)
            result = figures(db, "CA")
            for d in distributors:
                d.port.close()
        # The same callers again with no distributor running (they hang up at once), on the
        # same warm server: the webhooks' own cost, to compare the run's with.
        baseline = Line(base)
        run_callers(baseline, args, "CB", random.Random(args.seed), time.time() + 2)
        db.dispose()
        log_errors = stack.errors_in_logs()
    print(
        f"callers {args.callers} over {args.arrival:g} s, agents {args.agents}, "
        f"handle ~{args.handle:g} s, wrap-up {args.wrap_up} s, 2 distributors; "
        "gunicorn 2x8 on PostgreSQL"
    )
    print(f"run took {took:.0f} s; stays by state: {dict(result['states'])}")
    for name, lat in (
        ("enqueue->decision", [a for a, _ in decided]),
        ("enqueue->agent rung (provider accepted the call)", [b for _, b in decided]),
    ):
        print(
            f"{name}: p50 {statistics.median(lat):.2f} s, p95 {percentile(lat, 0.95):.2f} s, "
            f"max {max(lat):.2f} s over {len(lat)} offers "
            f"({'OK' if percentile(lat, 0.95) <= P95_GOAL_SECONDS else 'ABOVE'} the 2 s goal)"
        )
    print(f"double offers: {result['double']}; callers lost: {result['lost']}")
    for name, ln in (("baseline (no distributor)", baseline), ("with distribution", line)):
        print(
            f"caller webhooks {name}: p50 {percentile(ln.latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(ln.latencies, 0.99) * 1000:.1f} ms, {len(ln.latencies)} requests, "
            f"{len(ln.errors)} errors"
        )
    if line.errors or baseline.errors:
        print("errors:", (baseline.errors + line.errors)[:5])
    print("errors in the app's logs:", log_errors)


if __name__ == "__main__":
    main()
