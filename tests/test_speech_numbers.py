"""Chinese spoken numbers to digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from speech.numbers import DIGITS, digit_runs, spoken_digits, to_digits


@pytest.mark.parametrize(
    "said, digits",
    [
        ("二零一九一二", "201912"),
        ("幺三八零零幺幺", "1380011"),
        ("幺 三 八 零 零", "13800"),  # Vosk separates words with spaces
        ("两", "2"),
        ("十二", "12"),
        ("二十三", "23"),
        ("一百零五", "105"),
        ("两万三千", "23000"),
        ("嗯，二零二六，杠 一二", "202612"),
        ("２０２６", "2026"),
    ],
)
def test_spoken_digits(said, digits):
    assert spoken_digits(said) == digits


@pytest.mark.parametrize("said", ["", "我不知道", "工单二零一九", "供暖"])
def test_not_a_number(said):
    assert spoken_digits(said) is None


def test_numbers_inside_text():
    assert to_digits("工单号 二零二六一一二六") == "工单号 20261126"


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_digit_by_digit_reading_round_trips(number):
    spoken = {v: k for k, v in DIGITS.items() if k in "零一二三四五六七八九"}
    assert spoken_digits(" ".join(spoken[d] for d in number)) == number


@pytest.mark.parametrize(
    "text, normalised",
    [
        ("我的电话是幺三八零零一二三四五六七八", "我的电话是1380012345678"),
        ("工单 二 零 二 六 一 一 二 六 号", "工单 20261126 号"),
        ("我们一起去", "我们一起去"),
        ("三三两两", "三三两两"),
        ("一一对应 九九八十一", "一一对应 九九八十一"),
    ],
)
def test_transcripts_get_digits_only_for_long_runs(text, normalised):
    assert digit_runs(text) == normalised
