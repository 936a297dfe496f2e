"""Hot reload: a valid change is swapped in, an invalid one keeps the running flow and shows
in /healthz, and calls in progress finish on the version they started on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import TEST_API_TOKEN
from ivr_support import WORKDAY_MORNING, Phone, set_clock

from ivr import registry as registry_module

HEALTH_DETAIL = {"Authorization": f"Bearer {TEST_API_TOKEN}"}  # /healthz detail

FLOW = """
flow:
  name: reload test
  start: menu
  operator: bye
nodes:
  menu:
    kind: menu
    say: {prompt}
    options:
      - key: "1"
        next: bye
  bye:
    kind: hangup
    say: {bye}
"""


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    # Make sure the change is seen even within the file system's timestamp granularity.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def setup(make_app, tmp_path, monkeypatch):
    monkeypatch.setattr(registry_module, "FLOW_RELOAD_INTERVAL", 0)
    path = tmp_path / "flows.yaml"
    write(path, FLOW.format(prompt="旧版本，请按1", bye="旧的再见"))
    synthesized = []
    app = make_app(FLOWS_PATH=str(path))
    app.extensions["prompt_presynthesize"] = synthesized.append
    set_clock(app, WORKDAY_MORNING)
    return app, path, synthesized


def test_valid_change_is_swapped_and_old_calls_keep_their_version(setup):
    app, path, synthesized = setup
    client = app.test_client()
    old_call = Phone(client, app, call_sid="CA" + "a" * 32)
    assert old_call.dial() is not None and old_call.said() == ["旧版本，请按1"]
    old_version = app.extensions["ivr.flows"].current.version

    write(path, FLOW.format(prompt="新版本，请按1", bye="新的再见"))
    new_call = Phone(client, app, call_sid="CA" + "b" * 32)
    new_call.dial()
    assert new_call.said() == ["新版本，请按1"]
    assert synthesized and ("新版本，请按1", "zh-CN") in synthesized[-1]

    old_call.press("1")
    assert old_call.said() == ["旧的再见"]  # finished on the version it started on
    health = client.get("/healthz", headers=HEALTH_DETAIL).json["checks"]["flow"]
    assert health["ok"] and health["version"] != old_version and "errors" not in health


def test_invalid_change_keeps_running_flow_and_shows_in_healthz(setup):
    app, path, _ = setup
    client = app.test_client()
    good = app.extensions["ivr.flows"].current.version
    write(path, FLOW.format(prompt="新版本", bye="再见").replace("next: bye", "next: by"))
    phone = Phone(client, app)
    phone.dial()
    assert phone.said() == ["旧版本，请按1"]
    health = client.get("/healthz", headers=HEALTH_DETAIL).json["checks"]["flow"]
    assert health["version"] == good and health["stale"] is True
    assert health["errors"] == [
        "flows.yaml:11 nodes.menu.options[0]: target 'by' is not a node (did you mean 'bye'?)"
    ]


def test_version_restored_from_database_after_restart(setup, make_app):
    app, path, _ = setup
    phone = Phone(app.test_client(), app)
    phone.dial()
    write(path, FLOW.format(prompt="新版本，请按1", bye="新的再见"))
    # A new process that never saw the old file: the call's version comes from the database.
    fresh = make_app(FLOWS_PATH=str(path))
    set_clock(fresh, WORKDAY_MORNING)
    other = Phone(fresh.test_client(), fresh)
    other.twiml, other.raw = phone.twiml, phone.raw
    other.press("1")
    assert other.said() == ["旧的再见"]
