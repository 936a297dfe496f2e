"""Erlang C against published values, and the staffing search around it."""

from __future__ import annotations

import math

import pytest

from planning import erlang

# The worked example most call-centre texts use (Call Centre Helper, "Erlang C formula"):
# 100 calls in 30 minutes, 180 s handle time, target 80 % answered within 20 s.
# Published: 11 agents → P(wait) 68.21 %, service level 39.0 %; 14 agents are needed,
# giving 88.8 % within 20 s, an average speed of answer of 7.8 s and 71.4 % occupancy.
EXAMPLE = dict(calls=100, aht=180, interval=1800, within=20)


@pytest.mark.parametrize(
    ("agents", "p_wait", "sl"),
    [(11, 0.6821, 0.390), (12, 0.4494, 0.640), (13, 0.2853, 0.796), (14, 0.1741, 0.888)],
)
def test_published_worked_example(agents, p_wait, sl):
    traffic = erlang.traffic_erlangs(EXAMPLE["calls"], EXAMPLE["aht"], EXAMPLE["interval"])
    assert traffic == pytest.approx(10.0)
    assert erlang.erlang_c(agents, traffic) == pytest.approx(p_wait, abs=5e-5)
    assert erlang.service_level(agents, traffic, 180, 20) == pytest.approx(sl, abs=1e-3)


def test_small_textbook_values():
    # M/M/c textbook values: 2 Erlangs on 3 servers wait with probability 4/9;
    # 1 Erlang on 2 servers with 1/3.
    assert erlang.erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert erlang.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # Erlang B: 2 servers, 1 Erlang blocks 1/5 of the calls.
    assert erlang.erlang_b(2, 1.0) == pytest.approx(0.2)


def test_agents_needed_meets_the_target_with_the_fewest_agents():
    st = erlang.agents_needed(100, 180, answer_within=20, target=0.8)
    assert st.agents == 14
    assert st.service_level == pytest.approx(0.888, abs=1e-3)
    assert st.asa_seconds == pytest.approx(7.8, abs=0.05)
    assert st.occupancy == pytest.approx(10 / 14)
    one_fewer = erlang.service_level(13, st.traffic, 180, 20)
    assert one_fewer < 0.8 <= st.service_level


def test_shrinkage_rosters_more_agents_than_take_calls():
    st = erlang.agents_needed(100, 180, answer_within=20, target=0.8, shrinkage=0.3)
    assert st.agents == 14
    assert st.scheduled == math.ceil(14 / 0.7)


def test_occupancy_cap_adds_agents_beyond_the_service_level():
    # 400 calls of 300 s in half an hour: 66.7 Erlangs; the cap, not the target, binds.
    capped = erlang.agents_needed(400, 300, target=0.5, max_occupancy=0.8)
    assert capped.occupancy <= 0.8
    assert erlang.agents_needed(400, 300, target=0.5, max_occupancy=1.0).agents < capped.agents


def test_no_calls_need_no_agents():
    st = erlang.agents_needed(0, 240)
    assert (st.agents, st.scheduled, st.service_level, st.asa_seconds) == (0, 0, 1.0, 0.0)


def test_agents_who_cannot_keep_up_never_answer_in_time():
    assert erlang.erlang_c(5, 5.0) == 1.0
    assert erlang.service_level(5, 6.0, 180, 15) == 0.0
    assert erlang.asa(5, 6.0, 180) == math.inf


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"calls": -1, "aht_seconds": 180}, "calls must be 0 or more"),
        ({"calls": 10, "aht_seconds": 0}, "handle time must be more than 0"),
        ({"calls": 10, "aht_seconds": 180, "target": 1.5}, "target must be between 0 and 1"),
        ({"calls": 10, "aht_seconds": 180, "shrinkage": 1.0}, "shrinkage must be between"),
        ({"calls": 10, "aht_seconds": 180, "interval_seconds": 0}, "interval must be more"),
    ],
)
def test_bad_inputs_are_refused_with_a_reason(kwargs, message):
    with pytest.raises(erlang.StaffingError, match=message):
        erlang.agents_needed(**kwargs)


def test_absurd_load_stops_with_a_clear_error():
    with pytest.raises(erlang.StaffingError, match="check the inputs"):
        erlang.agents_needed(1_000_000, 3600)
