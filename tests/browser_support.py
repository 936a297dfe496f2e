"""Headless Chromium for the browser tests: where it is, how it is started, and what a
run does without it (skip on a developer's machine; fail under CI=true, like PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from conftest import missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def require_chromium() -> str:
    """The Chromium executable; without it, skip the test (fail it under CI)."""
    if not Path(CHROMIUM).exists():
        missing(f"{CHROMIUM} not installed (scripts/setup --dev)")
    return CHROMIUM
