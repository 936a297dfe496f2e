"""The classification rules and routing table in force, as saved by supervisors.

`install(app)` keeps a cached reader of the latest saved version of each kind; `active`
builds (once per version) the object the classifier or the router needs from it. With no
saved version (a database not yet seeded, a process without an app), callers fall back to
the shipped YAML files. Other processes see a save within RELOAD_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from core.db import get_db
from tickets.models import RuleSet

log = logging.getLogger(__name__)
T = TypeVar("T")

RULES = "rules"
ROUTING = "routing"
KINDS = (RULES, ROUTING)
RELOAD_SECONDS = 10.0
EXTENSION = "tickets.rulesets"


class CachedRuleSets:
    def __init__(self, db, reload_seconds: float = RELOAD_SECONDS):
        self.db = db
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._rows: dict[str, tuple[int, dict]] = {}
        self._built: dict[tuple[str, int], object] = {}

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    def _refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self.reload_seconds:
            return
        with self._lock:
            try:
                with self.db.Session() as s:
                    latest = (
                        select(RuleSet.kind, func.max(RuleSet.version).label("v"))
                        .group_by(RuleSet.kind)
                        .subquery()
                    )
                    rows = s.execute(
                        select(RuleSet.id, RuleSet.kind, RuleSet.data).join(
                            latest,
                            (RuleSet.kind == latest.c.kind) & (RuleSet.version == latest.c.v),
                        )
                    ).all()
                self._rows = {kind: (row_id, data) for row_id, kind, data in rows}
            except SQLAlchemyError as exc:
                log.warning("saved rules unavailable (%s): using the shipped files", exc)
            self._loaded_at = time.monotonic()

    def active(self, kind: str, build: Callable[[dict], T]) -> T | None:
        self._refresh()
        row = self._rows.get(kind)
        if row is None:
            return None
        key = (kind, row[0])
        if key not in self._built:
            self._built = {k: v for k, v in self._built.items() if k[0] != kind}
            self._built[key] = build(row[1])
        return self._built[key]  # type: ignore[return-value]


_process: CachedRuleSets | None = None


def install(app) -> CachedRuleSets:
    """Attach the reader to the app (and to the process, for work outside a request)."""
    global _process
    cached = CachedRuleSets(get_db(app))
    app.extensions[EXTENSION] = cached
    _process = cached
    return cached


def install_process(cached: CachedRuleSets | None) -> None:
    """Serve work outside any app context (scheduler, worker threads) from `cached`."""
    global _process
    _process = cached


def forget_process() -> None:
    install_process(None)


def source() -> CachedRuleSets | None:
    from flask import current_app, has_app_context

    if has_app_context() and EXTENSION in current_app.extensions:
        return current_app.extensions[EXTENSION]
    return _process


def active(kind: str, build: Callable[[dict], T]) -> T | None:
    """The built latest saved version of `kind`, or None (use the shipped file)."""
    cached = source()
    return cached.active(kind, build) if cached is not None else None
