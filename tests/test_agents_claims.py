"""Two distributors at once on each database backend: no agent offered twice, no caller
offered to two agents, nobody forgotten."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from agents_support import add_agent, distributor, join_queue, offers, stays

from agents import models as m
from telephony.fake_twilio import FakeTwilio
from tests.conftest import TEST_AUTH_TOKEN

AGENTS, CALLERS, ROUNDS = 6, 10, 5


@pytest.fixture
def fake():
    with FakeTwilio("AC" + "0" * 32, TEST_AUTH_TOKEN) as server:
        yield server


def test_two_distributors_never_double_offer(store_app, fake):
    app = store_app
    for i in range(AGENTS):
        add_agent(app, f"agent{i}", f"+86139000000{i:02d}", idle_for=100 - i)
    for i in range(CALLERS):
        join_queue(app, f"CA{i:032d}", ago=CALLERS - i)
    pair = [distributor(app, fake), distributor(app, fake)]
    start = threading.Barrier(2)
    errors = []

    def run(d):
        start.wait()
        try:
            for _ in range(ROUNDS):
                d.tick()
        except Exception as exc:  # surfaced below: a crash is a failure too
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in pair]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    made = offers(app)
    assert len(made) == AGENTS  # every agent rang once; the other callers wait
    assert max(Counter(o.agent_id for o in made).values()) == 1
    assert max(Counter(o.queue_call_id for o in made).values()) == 1
    assert sorted(c.to for c in fake.calls) == sorted({c.to for c in fake.calls})
    by_state = Counter(x.state for x in stays(app))
    assert by_state == {m.OFFERING: AGENTS, m.WAITING: CALLERS - AGENTS}
    # Oldest callers first, longest-idle agents first.
    offered = sorted(x.call_sid for x in stays(app) if x.state == m.OFFERING)
    assert offered == [f"CA{i:032d}" for i in range(AGENTS)]
    for d in pair:
        d.port.close()


def test_simultaneous_bridges_of_crossed_callers_stay_consistent(store_app, fake):
    """Twilio hands each answering agent the head of the queue, not the caller their offer
    was for; bridges arriving at once (several web workers) must still leave every caller
    bridged to exactly one agent and no offer pointing at a caller someone else took."""
    from agents_support import AgentLeg

    app = store_app
    count = 6
    for i in range(count):
        add_agent(app, f"agent{i}", f"+86139000000{i:02d}", idle_for=100 - i)
        join_queue(app, f"CA{i:032d}", ago=count - i)
    distributor(app, fake).tick()
    # Rung at once, in no particular order: agent i's device sorts i-th.
    legs = [AgentLeg(app.test_client(), app, c) for c in sorted(fake.calls, key=lambda c: c.to)]
    answers = [leg.answer() for leg in legs]
    start = threading.Barrier(count)
    errors = []

    def bridge(i):
        start.wait()
        try:  # agent i gets caller i+1 (the next one in line), the last agent the first caller
            legs[i].dequeue(answers[i], f"CA{(i + 1) % count:032d}")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=bridge, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    by_sid = {x.call_sid: x for x in stays(app)}
    assert {x.state for x in by_sid.values()} == {m.ANSWERED}
    assert sorted(x.agent for x in by_sid.values()) == sorted(f"agent{i}" for i in range(count))
    made = offers(app)
    assert {o.state for o in made} == {m.BRIDGED}
    assert len({o.queue_call_id for o in made}) == count  # one agent per caller
    for o in made:
        assert by_sid[f"CA{(int(o.agent.username[5:]) + 1) % count:032d}"].id == o.queue_call_id
