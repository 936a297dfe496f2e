"""Loaded flow versions, hot reload of the flow file, and the "flow" health check.

Every version a call starts on is kept (in memory, and its source in the
database) so calls in progress finish on the version they started on, even in
another worker or after a restart. A changed file is validated before it is
swapped in; an invalid one leaves the running flow in place and its errors are
logged and shown by /healthz.

Which version new calls start on is decided by the database, not by each
process's memory: the first process to read a new valid file publishes it (a
row in ivr_flow_publications), and every process serves the latest publication.
Workers that read the file at different moments (a good edit, then a broken
save) therefore never disagree for longer than one reload interval.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import health
from ivr.flows import Flow, FlowError, load_text
from ivr.flows.builder import build
from ivr.flows.errors import FlowIssue
from ivr.flows.reader import read_file
from ivr.models import FlowPublication, FlowVersion

log = logging.getLogger(__name__)

# Seconds between two looks at the flow file's modification time.
FLOW_RELOAD_INTERVAL = 1.0


class FlowUnavailable(RuntimeError):
    """No valid flow has been loaded (or a session's version is unknown)."""


class FlowRegistry:
    def __init__(self, path: str, on_load=None):
        self.path = Path(path)
        self.on_load = on_load
        self._lock = threading.Lock()
        self._versions: dict[str, Flow] = {}
        self._sources: dict[str, str] = {}
        self._persisted: set[str] = set()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._synced = 0.0
        self._unpublished: Flow | None = None  # read from the file, not yet in the database
        self.current: Flow | None = None
        self.errors: list[str] = []
        self.reload()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def reload(self) -> bool:
        """Validate the file and swap it in if it changed and is valid. True when swapped."""
        with self._lock:
            self._checked = time.monotonic()
            stamp = self._file_stamp()
            if stamp == self._stamp and self.current is not None:
                return False
            self._stamp = stamp
            try:
                flow, source = self._load()
            except FlowError as exc:
                self.errors = [str(e) for e in exc.errors]
                log.error(
                    "flow file %s is invalid; %s: %s",
                    self.path,
                    "keeping version " + self.current.version if self.current else "no flow loaded",
                    "; ".join(self.errors),
                )
                return False
            self.errors = []
            if self.current is not None and flow.version == self.current.version:
                return False
            self._versions[flow.version] = flow
            self._sources[flow.version] = source
            self.current = self._unpublished = flow
            log.info(
                "flow %s version %s loaded (%d nodes)", flow.name, flow.version, len(flow.nodes)
            )
        if self.on_load is not None:
            try:
                self.on_load(flow)
            except Exception:  # presynthesis is an optimisation; never block a flow
                log.exception("on_load hook failed for flow %s", flow.version)
        return True

    def _load(self) -> tuple[Flow, str]:
        try:
            doc, source = read_file(self.path)
        except OSError as exc:
            raise FlowError(
                [FlowIssue(self.path.name, None, "", f"cannot read: {exc.strerror}", "unreadable")]
            ) from None
        return build(doc, source), source

    def latest(self, s: Session | None = None) -> Flow:
        """The flow new calls start on: the latest published version (file and database are
        re-checked at most every interval; without a session, this process's own view)."""
        if time.monotonic() - self._checked >= FLOW_RELOAD_INTERVAL:
            self.reload()
        if s is not None and (
            self._unpublished is not None or time.monotonic() - self._synced >= FLOW_RELOAD_INTERVAL
        ):
            self._sync(s)
        if self.current is None:
            raise FlowUnavailable("; ".join(self.errors) or f"no flow loaded from {self.path}")
        return self.current

    def _sync(self, s: Session) -> None:
        """Publish a newly read valid file, then serve the latest publication."""
        self._synced = time.monotonic()
        published = s.scalar(
            select(FlowPublication.version).order_by(FlowPublication.id.desc()).limit(1)
        )
        fresh = self._unpublished
        # Only while the file still holds what was read: a slower process must not publish
        # an older text over a newer one.
        if fresh is not None and self._file_stamp() == self._stamp:
            if fresh.version == published:
                self._unpublished = None  # seen committed: done
            else:
                # Kept as unpublished until a later look sees it committed: this turn's
                # transaction may still roll back, taking the publication with it.
                self._persisted.discard(fresh.version)
                self.persist(s, fresh)
                s.add(FlowPublication(version=fresh.version))
                s.flush()
                log.info("flow version %s published for every process", fresh.version)
                published = fresh.version
        else:
            self._unpublished = None
        if published is not None and (self.current is None or published != self.current.version):
            try:
                flow = self.get(s, published)
            except (FlowError, FlowUnavailable) as exc:  # e.g. a stricter validator since
                log.error("published flow version %s cannot be served: %s", published, exc)
                return
            log.info("serving flow version %s, published by another process", published)
            with self._lock:
                self.current = flow

    def persist(self, s: Session, flow: Flow) -> None:
        """Store the source of a version a call is starting on (once per process)."""
        if flow.version in self._persisted:
            return
        if s.get(FlowVersion, flow.version) is None:
            try:
                with s.begin_nested():  # another worker may store the same version at once
                    s.add(
                        FlowVersion(
                            version=flow.version,
                            file=str(self.path),
                            source=self._sources[flow.version],
                        )
                    )
            except IntegrityError:
                pass
        self._persisted.add(flow.version)

    def get(self, s: Session, version: str) -> Flow:
        """The flow a session started on: from memory, else from its stored source."""
        flow = self._versions.get(version)
        if flow is not None:
            return flow
        row = s.get(FlowVersion, version)
        if row is None:
            raise FlowUnavailable(f"flow version {version} is not known")
        flow = load_text(row.source, Path(row.file).name)
        with self._lock:
            self._versions[version] = flow
        return flow

    def check(self, _app) -> health.Check:
        if self.current is None:
            return health.Check(False, {"file": str(self.path), "errors": self.errors})
        detail = {
            "version": self.current.version,
            "name": self.current.name,
            "file": str(self.path),
        }
        if self.errors:
            # The line keeps serving the last good version: report, do not fail the instance.
            detail |= {"stale": True, "errors": self.errors}
        return health.Check(True, detail)
