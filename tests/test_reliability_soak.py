"""The soak (bench/soak.py) from pytest: only with --soak (tests/reliability_plugin.py).

.venv/bin/python -m pytest tests/test_reliability_soak.py --soak --soak-minutes 30
"""

from __future__ import annotations

import pytest

from bench import soak

pytestmark = [pytest.mark.soak, pytest.mark.slow]


def test_soak_memory_flat_no_error_nothing_lost(request):
    minutes = request.config.getoption("--soak-minutes")
    calls = request.config.getoption("--soak-calls") or soak.DEFAULT_CALLS
    result = soak.run(minutes, calls, out=print)
    assert result["webhooks"]["errors"] == 0, result["errors"]
    assert result["webhooks"]["requests"] > 0
    counts = result["counts"]
    assert counts["call_records"] == counts["calls_sent"] > 0
    assert counts["voice_message_tickets"] == counts["messages_sent"]
    assert counts["duplicate_tickets"] == 0 and counts["calls_left_open"] == 0
    assert result["flat"], result["rss_growth"]
