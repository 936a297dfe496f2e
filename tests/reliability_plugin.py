"""pytest options for the long reliability runs: `--soak` (and `--soak-minutes`).

Registered from tests/conftest.py (`pytest_plugins`). Tests marked `soak` are
skipped unless --soak is given, so the normal suite stays fast.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser) -> None:
    group = parser.getgroup("reliability")
    group.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="run the soak test (bench/soak.py against gunicorn on PostgreSQL)",
    )
    group.addoption(
        "--soak-minutes",
        type=float,
        default=30.0,
        help="length of the soak with --soak (default 30)",
    )
    group.addoption(
        "--soak-calls",
        type=int,
        default=None,
        help="concurrent calls during the soak (default: bench/soak.py's)",
    )


def pytest_collection_modifyitems(config, items) -> None:
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="long-running soak: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)
