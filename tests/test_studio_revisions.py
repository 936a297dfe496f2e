"""Revisions, drafts and web-phone state on every database backend."""

from __future__ import annotations

import pytest

from core.config import ROOT
from core.db import Database
from studio import revisions
from studio.models import PhoneCall

pytestmark = pytest.mark.store


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def flows(tmp_path):
    path = tmp_path / "flows.yaml"
    path.write_text((ROOT / "flows.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_publish_restore_history(db, flows):
    original = flows.read_text(encoding="utf-8")
    changed = original.replace("再见。", "再会。")
    with db.session() as s:
        first = revisions.sync_with_disk(s, flows)
        rev = revisions.publish(
            s, flows, changed, author="lead", message="m", base_revision_id=first.id
        )
        assert rev.version == revisions.text_version(changed)
    assert flows.read_text(encoding="utf-8") == changed
    with db.session() as s:
        with pytest.raises(revisions.PublishConflict):
            revisions.publish(
                s, flows, original + "\n", author="other", message="late", base_revision_id=first.id
            )
        with pytest.raises(revisions.StudioError, match="nothing to publish"):
            revisions.publish(
                s, flows, changed, author="lead", message="again", base_revision_id=None
            )
    with db.session() as s:
        back = revisions.restore(s, flows, first.id, author="lead")
        assert back.restored_from == first.id and back.text == original
        assert [r.action for r in revisions.history(s)] == ["restore", "publish", "import"]
    assert flows.read_text(encoding="utf-8") == original


def test_invalid_text_is_not_published(db, flows):
    with db.session() as s:
        first = revisions.sync_with_disk(s, flows)
        with pytest.raises(revisions.InvalidFlow) as info:
            revisions.publish(
                s, flows, "flow: {}\n", author="lead", message="m", base_revision_id=first.id
            )
    assert info.value.issues and str(info.value.issues[0]).startswith("flows.yaml")


def test_draft_and_phone_state(db, flows):
    with db.session() as s:
        revisions.save_draft(s, "lead", "text 1", None)
        revisions.save_draft(s, "lead", "text 2", None)
        s.add(
            PhoneCall(
                username="lead",
                mode="draft",
                flow_version="abc",
                state={"events": [{"kind": "say", "text": "你好"}], "clock": 1.5},
            )
        )
    with db.session() as s:
        assert revisions.get_draft(s, "lead").text == "text 2"
        call = s.query(PhoneCall).one()
        assert call.state["events"][0]["text"] == "你好"
