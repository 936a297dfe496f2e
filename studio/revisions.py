"""Draft, publish, restore: flows.yaml on disk and the latest revision kept in step.

Publishing stores the exact text (comments and key order are the supervisor's
own bytes), writes the file atomically, and records who, when, why and the
diff. New calls pick the file up; calls already running keep the version
stamped on them (ivr), whose text stays findable here by `version`.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import os
import tempfile
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.flows import FlowError, FlowIssue, load_text, policy
from studio.models import FlowDraft, FlowRevision

audit_log = logging.getLogger("audit.studio")
MAX_MESSAGE = 500


class StudioError(Exception):
    """Base of the studio's refusals."""


class InvalidFlow(StudioError):
    """The text does not validate; `.issues` are ivr's FlowIssues."""

    def __init__(self, issues: list[FlowIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class PublishConflict(StudioError):
    """Someone published after this draft was started from `base`."""


def text_version(text: str) -> str:
    """The version ivr gives a flow: a hash of its source text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def check(text: str, file: str) -> list[FlowIssue]:
    """Every issue in `text`, as `flask flows check` reports them (empty: valid)."""
    try:
        flow = load_text(text, file)
    except FlowError as exc:
        return exc.errors
    config = current_app.config if has_app_context() else {}  # outside the app: the default
    return policy.issues(flow, config)


def make_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name
        )
    )


def latest(s: Session) -> FlowRevision | None:
    return s.scalars(select(FlowRevision).order_by(FlowRevision.id.desc()).limit(1)).first()


def history(s: Session, limit: int = 50) -> list[FlowRevision]:
    return list(s.scalars(select(FlowRevision).order_by(FlowRevision.id.desc()).limit(limit)))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)  # readers see the old file or the new one, never half
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _add(
    s: Session,
    *,
    text: str,
    action: str,
    author: str,
    message: str,
    previous: FlowRevision | None,
    restored_from: int | None = None,
) -> FlowRevision:
    old = previous.text if previous else ""
    old_name = f"revision {previous.id}" if previous else "(none)"
    rev = FlowRevision(
        version=text_version(text),
        text=text,
        action=action,
        author=author,
        message=message[:MAX_MESSAGE],
        diff="",
        restored_from=restored_from,
    )
    s.add(rev)
    s.flush()
    rev.diff = make_diff(old, text, old_name, f"revision {rev.id}")
    audit_log.info(
        "flow %s revision=%s version=%s by=%s message=%r",
        action,
        rev.id,
        rev.version,
        author,
        rev.message,
    )
    return rev


def sync_with_disk(s: Session, path: str | Path) -> FlowRevision | None:
    """Make the latest revision match the file: an edit made outside the studio is imported."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return latest(s)
    current = latest(s)
    if current is not None and current.text == text:
        return current
    return _add(
        s,
        text=text,
        action="import",
        author="disk",
        previous=current,
        message="flows.yaml changed outside the studio" if current else "first import",
    )


def publish(
    s: Session,
    path: str | Path,
    text: str,
    *,
    author: str,
    message: str,
    base_revision_id: int | None,
) -> FlowRevision:
    """Validate, write the file, store the revision. Raises InvalidFlow / PublishConflict."""
    path = Path(path)
    issues = check(text, path.name)
    if issues:
        raise InvalidFlow(issues)
    current = sync_with_disk(s, path)
    if current is not None and base_revision_id is not None and current.id != base_revision_id:
        raise PublishConflict(
            f"revision {current.id} by {current.author} was published after "
            f"your draft began from revision {base_revision_id}"
        )
    if current is not None and current.text == text:
        raise StudioError("nothing to publish: the text is the published flow")
    rev = _add(s, text=text, action="publish", author=author, message=message, previous=current)
    _write_atomically(path, text)
    draft = s.scalars(select(FlowDraft).where(FlowDraft.username == author)).first()
    if draft is not None:
        s.delete(draft)
    return rev


def restore(s: Session, path: str | Path, revision_id: int, *, author: str) -> FlowRevision:
    """Publish an earlier revision's text again, as a new revision."""
    old = s.get(FlowRevision, revision_id)
    if old is None:
        raise StudioError(f"no revision {revision_id}")
    path = Path(path)
    issues = check(old.text, path.name)  # the validator may have grown stricter since
    if issues:
        raise InvalidFlow(issues)
    current = sync_with_disk(s, path)
    if current is not None and current.text == old.text:
        raise StudioError(f"revision {revision_id} is already what is published")
    rev = _add(
        s,
        text=old.text,
        action="restore",
        author=author,
        previous=current,
        message=f"restore revision {revision_id}",
        restored_from=revision_id,
    )
    _write_atomically(path, old.text)
    return rev


def save_draft(s: Session, username: str, text: str, base_revision_id: int | None) -> FlowDraft:
    draft = s.scalars(select(FlowDraft).where(FlowDraft.username == username)).first()
    if draft is None:
        draft = FlowDraft(username=username, text=text, base_revision_id=base_revision_id)
        s.add(draft)
    else:
        draft.text, draft.base_revision_id = text, base_revision_id
    s.flush()
    return draft


def get_draft(s: Session, username: str) -> FlowDraft | None:
    return s.scalars(select(FlowDraft).where(FlowDraft.username == username)).first()
