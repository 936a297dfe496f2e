"""/healthz notices when nobody distributes: a caller waiting with an agent free."""

from __future__ import annotations

from agents_support import add_agent, distributor, join_queue
from conftest import TEST_API_TOKEN

from telephony.fake_twilio import FakeTwilio
from tests.conftest import TEST_AUTH_TOKEN

HEALTH_DETAIL = {"Authorization": f"Bearer {TEST_API_TOKEN}"}  # /healthz detail


def test_stalled_queue_degrades_health_until_distributed(app, client):
    add_agent(app, "wang", "+8613900000001")
    join_queue(app, "CA" + "1" * 32, ago=3)
    assert (
        client.get("/healthz", headers=HEALTH_DETAIL).json["checks"]["agents"]["ok"] is True
    )  # just arrived
    join_queue(app, "CA" + "2" * 32, ago=30)
    resp = client.get("/healthz", headers=HEALTH_DETAIL)
    agents = resp.json["checks"]["agents"]
    assert resp.status_code == 503 and agents["ok"] is False
    assert agents["stalled"] == 1 and "flask agents run" in agents["hint"]
    with FakeTwilio("AC" + "0" * 32, TEST_AUTH_TOKEN) as fake:
        distributor(app, fake).tick()  # the oldest caller is offered to wang
    assert client.get("/healthz", headers=HEALTH_DETAIL).json["checks"]["agents"]["ok"] is True
