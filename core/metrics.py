"""Prometheus metrics for operations: one registry per app, gauges that packages register,
and the latency of every request by route.

    metrics.register(app, "hotline_callers_waiting", "Callers waiting", fn, labels=("queue",))
    # fn(app) -> a number, or {(label values...): number}; read on every scrape

`render(app)` is the text exposition; the page serving it is protected like the API.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

# Webhook answers should take milliseconds; Twilio gives up after 15 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)


class _Gauges:
    """Collects every registered gauge at scrape time (a failing one is left out)."""

    def __init__(self, app):
        self.app = app
        self.sources: dict[str, tuple[str, tuple[str, ...], Callable]] = {}

    def collect(self):
        for name, (help_text, labels, fn) in self.sources.items():
            try:
                value = fn(self.app)
            except Exception:  # a broken source must not break the scrape
                continue
            family = GaugeMetricFamily(name, help_text, labels=list(labels) or None)
            if labels:
                for key, number in value.items():
                    family.add_metric([str(k) for k in key], float(number))
            else:
                family.add_metric([], float(value))
            yield family


def _state(app) -> dict:
    state = app.extensions.get("metrics")
    if state is None:
        registry = CollectorRegistry()
        gauges = _Gauges(app)
        registry.register(gauges)
        latency = Histogram(
            "hotline_request_seconds",
            "Time to answer a request (Twilio webhooks, API, pages), by route",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        state = app.extensions["metrics"] = {
            "registry": registry,
            "gauges": gauges,
            "latency": latency,
        }
    return state


def register(app, name: str, help_text: str, fn: Callable, labels: tuple[str, ...] = ()) -> None:
    _state(app)["gauges"].sources[name] = (help_text, tuple(labels), fn)


def render(app) -> bytes:
    return generate_latest(_state(app)["registry"])


def init_app(app) -> None:
    """Time every request by its route pattern (bounded label values, no ids)."""
    latency = _state(app)["latency"]

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.get("metrics_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            latency.labels(route, request.method).observe(time.perf_counter() - started)
        return response
