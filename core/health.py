"""Health checks that packages register and /healthz aggregates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Check:
    ok: bool
    detail: dict = field(default_factory=dict)


CheckFn = Callable[[object], Check]


def register(app, name: str, fn: CheckFn) -> None:
    """Add a named check; fn(app) returns a Check and must not raise for expected failures."""
    app.extensions.setdefault("health_checks", {})[name] = fn


def run_all(app) -> tuple[bool, dict[str, dict]]:
    """Run every check; an exception in a check counts as a failed check."""
    results: dict[str, dict] = {}
    healthy = True
    for name, fn in app.extensions.get("health_checks", {}).items():
        try:
            check = fn(app)
        except Exception as exc:  # a broken check must not break /healthz itself
            check = Check(False, {"error": f"{type(exc).__name__}: {exc}"})
        healthy &= check.ok
        results[name] = {"ok": check.ok, **check.detail}
    return healthy, results
