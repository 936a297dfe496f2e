"""Distribution under load: 300 callers at once, N agents, two distributors racing.

Callers dial the real webhooks (signed, in-process test clients on threads), hear the
greeting and enter the `agents` queue; some hang up while waiting. Agents are the
local Twilio fake's calls: the distributor places each agent leg through the real
TwilioPort over HTTP, the fake "rings" (0.2-1.5 s; a few agents never answer), then
answers like Twilio: the answer URL's <Dial><Queue> takes the head of a FIFO that
stands in for Twilio's queue, <Queue url> is fetched for that caller, the agent talks
(--handle seconds +-50 %), hangs up, and wraps up (--wrap-up s).

Printed: enqueue->offer latency (from the caller entering the queue, or from the
agent becoming free when every agent was busy: what the distributor controls) p50/p95/
max, double offers (an agent with two live offers, or a caller with two), callers lost
(neither answered nor hung up at the end), and the callers' webhook p50/p99 with the
distributors running vs a baseline run of the same callers without them.

    .venv/bin/python bench/agents_distribution.py                 # 300 callers, 40 agents
    .venv/bin/python bench/agents_distribution.py --database-url postgresql+psycopg://root@127.0.0.1/test

Everything stays on 127.0.0.1; a run is bounded by --timeout.
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from accounts.service import create_user  # noqa: E402
from agents import models as m  # noqa: E402
from agents.distribution import DISPATCH_INTERVAL_SECONDS, Distributor  # noqa: E402
from agents.presence import SYSTEM, change_status, ensure_agent  # noqa: E402
from core import migrate  # noqa: E402
from core.db import get_db  # noqa: E402
from core.scratch import scratch_database  # noqa: E402
from telephony.fake_twilio import FakeTwilio  # noqa: E402
from telephony.signature import sign  # noqa: E402
from telephony.twilio_port import TwilioPort  # noqa: E402

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token"
BASE = "http://hotline.bench"
WORKDAY_MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Thursday
P95_GOAL_SECONDS = 2.0
NOT_ANSWERING = 0.03  # share of agent legs that ring out
ABANDONING = 0.1  # share of callers who hang up while waiting


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Line:
    """The app, signed posts, and the FIFO standing in for Twilio's queue."""

    def __init__(self, app):
        self.app = app
        self.fifo: collections.deque[str] = collections.deque()
        self.lock = threading.Lock()
        self.bridged: dict[str, threading.Event] = {}
        self.talk_over: dict[str, threading.Event] = {}
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def post(self, client, url: str, form: dict, *, timed: bool = False):
        full = url if url.startswith("http") else BASE + url
        signature = sign(full, form, AUTH_TOKEN)
        parts = urlsplit(full)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        started = time.perf_counter()
        resp = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        if timed:
            with self.lock:
                self.latencies.append(time.perf_counter() - started)
        if resp.status_code != 200:
            with self.lock:
                self.errors.append(f"{path}: HTTP {resp.status_code}")
        return ET.fromstring(resp.get_data(as_text=True) or "<Response/>")


def caller(line: Line, i: int, *, abandon_after: float | None, deadline: float):
    client = line.app.test_client()
    sid = f"CA{i:032x}"
    form = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": f"+86138{i:08d}", "To": "12345"}
    line.bridged[sid], line.talk_over[sid] = threading.Event(), threading.Event()
    twiml = line.post(client, "/ivr/voice", {**form, "CallStatus": "ringing"}, timed=True)
    twiml = line.post(client, twiml.find("Redirect").text, form, timed=True)  # no key: queue
    enqueue = twiml.find("Enqueue")
    if enqueue is None:
        line.errors.append(f"{sid}: not queued")
        return
    with line.lock:
        line.fifo.append(sid)
    wait = abandon_after if abandon_after is not None else max(0.0, deadline - time.time())
    if not line.bridged[sid].wait(wait):
        with line.lock:
            if sid in line.fifo:
                line.fifo.remove(sid)
                gone = True
            else:
                gone = False  # an agent took the caller at the very moment they gave up
        if gone:
            line.post(client, enqueue.get("action"), {**form, "QueueResult": "hangup"}, timed=True)
            line.post(client, "/ivr/status", {**form, "CallStatus": "completed"}, timed=True)
            return
        line.bridged[sid].wait(5)
    line.talk_over[sid].wait(max(0.0, deadline - time.time()))
    line.post(client, enqueue.get("action"), {**form, "QueueResult": "bridged"}, timed=True)
    line.post(client, "/ivr/status", {**form, "CallStatus": "completed"}, timed=True)


def agent_leg(line: Line, fake: FakeTwilio, call, *, handle: float, rng: random.Random):
    client = line.app.test_client()
    form = {"CallSid": call.sid, "AccountSid": ACCOUNT_SID, "From": call.from_, "To": call.to}
    time.sleep(rng.uniform(0.2, 1.5))  # ringing
    if call.status == "canceled":  # the distributor hung up (the caller left)
        line.post(client, call.status_callback, {**form, "CallStatus": "canceled"})
        return
    if rng.random() < NOT_ANSWERING:
        time.sleep(max(0.0, call.timeout - 1.5))
        line.post(client, call.status_callback, {**form, "CallStatus": "no-answer"})
        return
    twiml = line.post(client, call.url, {**form, "CallStatus": "in-progress"})
    queue = twiml.find("Dial/Queue")
    head = None
    if queue is not None:
        with line.lock:
            head = line.fifo.popleft() if line.fifo else None
    if head is None:
        line.post(client, call.status_callback, {**form, "CallStatus": "completed"})
        return
    line.post(
        client,
        queue.get("url"),
        {**form, "CallSid": head, "DequeingCallSid": call.sid, "QueueTime": "1"},
    )
    line.bridged[head].set()
    time.sleep(handle * rng.uniform(0.5, 1.5))
    line.post(client, call.status_callback, {**form, "CallStatus": "completed"})
    line.talk_over[head].set()


def make_app(url: str, args):
    from ivr import create_app

    audio = tempfile.mkdtemp(prefix="bench-audio-")
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "PUBLIC_BASE_URL": BASE,
            "AUDIO_DIR": audio,
            "TELEPHONY": "twilio",
            "AGENT_WRAP_UP_SECONDS": str(args.wrap_up),
            "AGENT_RING_SECONDS": "3",
            "LOG_LEVEL": "WARNING",
        }
    )
    app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING
    app.extensions["prompt_audio"] = None  # <Say>: the bench measures distribution, not TTS
    return app


def add_agents(app, count: int) -> None:
    with get_db(app).session() as s:
        for i in range(count):
            name = f"bench-agent-{i}"
            create_user(s, name, "bench-password-1", role="agent")
            agent = ensure_agent(s, name, device=f"+86139{i:08d}")
            change_status(s, agent, m.AVAILABLE, actor=SYSTEM)


def warm_up(line: Line) -> None:
    """First requests load the flow and fill caches: not part of the figures."""
    client = line.app.test_client()
    for i in range(3):
        form = {"CallSid": f"CW{i:032x}", "AccountSid": ACCOUNT_SID, "From": "+8613900000000"}
        line.post(client, "/ivr/voice", {**form, "To": "12345", "CallStatus": "ringing"})
        line.post(client, "/ivr/status", {**form, "To": "12345", "CallStatus": "completed"})
    line.latencies.clear()


def run_callers(line: Line, args, rng: random.Random, deadline: float) -> None:
    warm_up(line)
    threads = []
    for i in range(args.callers):
        abandon = rng.uniform(3, 20) if rng.random() < ABANDONING else None
        t = threading.Thread(
            target=caller,
            args=(
                line,
                i,
            ),
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
        decided.extend(c.decided_after for c in d.tick().offered)
        stopping.wait(DISPATCH_INTERVAL_SECONDS)


def figures(app) -> dict:
    with get_db(app).session() as s:
        stays = list(s.scalars(select(m.QueueCall)))
        offers = list(s.scalars(select(m.Offer).order_by(m.Offer.created_at)))
    double = 0
    live_by_agent: dict[int, list] = collections.defaultdict(list)
    for o in offers:  # an agent rung while an earlier offer to them was still live
        created = m.aware(o.created_at)
        ended = m.aware(o.ended_at) or datetime.max.replace(tzinfo=UTC)
        double += sum(end > created for _, end in live_by_agent[o.agent_id])
        live_by_agent[o.agent_id].append((created, ended))
    bridged = collections.Counter(o.queue_call_id for o in offers if o.bridged_at is not None)
    double += sum(n > 1 for n in bridged.values())  # one caller bridged to two agents
    states = collections.Counter(x.state for x in stays)
    return {"double": double, "lost": states[m.WAITING] + states[m.OFFERING], "states": states}


def one_run(url: str, args, *, with_agents: bool) -> tuple[Line, dict | None]:
    app = make_app(url, args)
    line = Line(app)
    rng = random.Random(args.seed)
    if not with_agents:
        deadline = time.time() + 2
        run_callers(line, args, rng, deadline)
        app.extensions["db"].dispose()
        return line, None
    add_agents(app, args.agents)
    legs_rng = random.Random(args.seed + 1)
    fake = FakeTwilio(
        ACCOUNT_SID,
        AUTH_TOKEN,
        on_call=lambda call: agent_leg(line, fake, call, handle=args.handle, rng=legs_rng),
    )
    with fake:
        stopping = threading.Event()
        distributors = [
            Distributor(
                get_db(app),
                TwilioPort(ACCOUNT_SID, AUTH_TOKEN, "+8605460012345", fake.base_url),
                base_url=BASE,
                ring_seconds=3,
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
        run_callers(line, args, rng, time.time() + args.timeout)
        time.sleep(args.wrap_up + 1)
        stopping.set()
        for w in workers:
            w.join(timeout=5)
        result = figures(app) | {"latency": decided}
        for d in distributors:
            d.port.close()
    app.extensions["db"].dispose()
    return line, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=300)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--handle", type=float, default=6.0, help="mean talk seconds")
    parser.add_argument("--wrap-up", type=int, default=1)
    parser.add_argument("--arrival", type=float, default=20.0, help="seconds for all to call")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--database-url", help="PostgreSQL admin URL (default: SQLite)")
    args = parser.parse_args()

    def database():
        if args.database_url:
            return scratch_database(args.database_url, "agents_bench")
        tmp = tempfile.mkdtemp(prefix="agents-bench-")
        from contextlib import nullcontext

        return nullcontext(f"sqlite:///{tmp}/bench.db")

    with database() as url:
        migrate.upgrade(url)
        base_line, _ = one_run(url, args, with_agents=False)
    with database() as url:
        migrate.upgrade(url)
        started = time.time()
        line, result = one_run(url, args, with_agents=True)
        took = time.time() - started
    lat = result["latency"]
    print(
        f"callers {args.callers}, agents {args.agents}, handle ~{args.handle:g} s, "
        f"wrap-up {args.wrap_up} s, 2 distributors, {'PostgreSQL' if args.database_url else 'SQLite'}"
    )
    print(f"run took {took:.0f} s; stays by state: {dict(result['states'])}")
    print(
        f"enqueue->offer: p50 {statistics.median(lat):.2f} s, p95 {percentile(lat, 0.95):.2f} s, "
        f"max {max(lat):.2f} s over {len(lat)} offers "
        f"({'OK' if percentile(lat, 0.95) <= P95_GOAL_SECONDS else 'ABOVE'} the 2 s goal)"
    )
    print(f"double offers: {result['double']}; callers lost: {result['lost']}")
    for name, ln in (("baseline (no distributor)", base_line), ("with distribution", line)):
        print(
            f"caller webhooks {name}: p50 {percentile(ln.latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(ln.latencies, 0.99) * 1000:.1f} ms, {len(ln.latencies)} requests, "
            f"{len(ln.errors)} errors"
        )
    if line.errors:
        print("errors:", line.errors[:5])


if __name__ == "__main__":
    main()
