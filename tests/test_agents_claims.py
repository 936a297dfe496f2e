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
