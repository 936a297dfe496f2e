"""Hotline text normalisation: one test per rule (speech.normalize.RULES), then the whole."""

from __future__ import annotations

import pytest

from speech.normalize import RULES, normalize
from speech.numerals import cardinal


def test_every_rule_is_tested_here():
    tested = {
        name.removeprefix("test_rule_") for name in globals() if name.startswith("test_rule_")
    }
    assert {rule.name for rule in RULES} <= tested


def test_rule_full_width():
    assert normalize("拨打１２３４５") == "拨打幺二三四五"
    assert normalize("９５％") == "百分之九十五"


def test_rule_phone_number():
    assert normalize("电话0546-8381234") == "电话零五四六，八三八幺二三四"
    assert normalize("138 0013 8000") == "幺三八，零零幺三，八零零零"


def test_rule_service_number():
    assert normalize("欢迎致电12345政务服务便民热线") == "欢迎致电幺二三四五政务服务便民热线"
    assert normalize("遇到紧急情况请直接报警110。") == "遇到紧急情况请直接报警幺幺零。"
    assert normalize("罚款110元") == "罚款一百一十元"  # a unit after it: an amount


def test_rule_keypad_symbol():
    assert normalize("说完请按#号键") == "说完请按井号键"
    assert normalize("返回请按*") == "返回请按星号"


def test_rule_identifier_after_word():
    assert normalize("拨打110") == "拨打幺幺零"
    assert normalize("尾号5678的手机") == "尾号五六七八的手机"
    assert normalize("工单号20261126000123") == "工单号二零二六幺幺二六零零零幺二三"
    assert normalize("您的工单编号是：2 0 2 6 1 1") == "您的工单编号是：二零二六幺幺"
    assert normalize("电话3天后回复") == "电话三天后回复"  # a unit follows: not an identifier


def test_rule_spaced_digits():
    assert normalize("2 0 2 6 1 1 2 6") == "二零二六幺幺二六"


def test_rule_iso_date():
    assert normalize("2026-12-01") == "二零二六年十二月一日"


def test_rule_year():
    assert normalize("2026年") == "二零二六年"
    assert normalize("2019年度") == "二零一九年度"


def test_rule_month_day():
    assert normalize("12月1日") == "十二月一日"
    assert normalize("11月3号") == "十一月三号"
    assert normalize("10月") == "十月"


def test_rule_clock_range():
    assert normalize("08:00-20:00") == "八点到二十点"
    assert normalize("8:30～17:30") == "八点三十分到十七点三十分"


def test_rule_clock():
    assert normalize("9:30") == "九点三十分"
    assert normalize("20:00") == "二十点"
    assert normalize("8:05") == "八点零五分"
    assert normalize("2:00") == "两点"


def test_rule_percent_range():
    assert normalize("10%-20%") == "百分之十到百分之二十"
    assert normalize("5-10%") == "百分之五到百分之十"


def test_rule_percent():
    assert normalize("满意率95%") == "满意率百分之九十五"
    assert normalize("0.5%") == "百分之零点五"


def test_rule_number_range():
    assert normalize("3-5个工作日") == "三到五个工作日"
    assert normalize("1~2天") == "一到两天"


def test_rule_decimal_number():
    assert normalize("3.5公里") == "三点五公里"
    assert normalize("0.25") == "零点二五"


def test_rule_ordinal():
    assert normalize("第2次") == "第二次"
    assert normalize("第12名") == "第十二名"


def test_rule_long_code():
    assert normalize("验证码以短信发送：583920") == "验证码以短信发送：五八三九二零"
    assert normalize("20260001") == "二零二六零零零幺"


def test_rule_quantity():
    assert normalize("22元") == "二十二元"
    assert normalize("13个工作日") == "十三个工作日"
    assert normalize("18摄氏度") == "十八摄氏度"
    assert normalize("3天") == "三天"
    assert normalize("2个") == "两个"
    assert normalize("9点") == "九点"
    assert normalize("12345元") == "一万两千三百四十五元"


def test_rule_latin():
    assert normalize("APP") == "诶屁屁"


def test_rule_pause():
    assert normalize("好的,谢谢.再见!") == "好的，谢谢。再见！"
    assert normalize("请稍候……") == "请稍候。。"


def test_rule_silent():
    assert normalize("《通知》（东营）😀") == "通知东营"


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        ("0", "零"),
        ("10", "十"),
        ("15", "十五"),
        ("101", "一百零一"),
        ("110", "一百一十"),
        ("1010", "一千零一十"),
        ("2000", "两千"),
        ("20000", "两万"),
        ("100005", "十万零五"),
        ("120000000", "一亿两千万"),
    ],
)
def test_cardinal(number, spoken):
    assert cardinal(number) == spoken


def test_context_decides_between_identifier_and_quantity():
    assert normalize("拨打110或者罚款110元") == "拨打幺幺零或者罚款一百一十元"


def test_pauses_are_kept():
    assert normalize("您好、请问；是否：满意？") == "您好、请问；是否：满意？"


def test_rule_thousands():
    assert normalize("共12,345件") == "共一万两千三百四十五件"


def test_rule_plate():
    assert normalize("鲁E12345的车") == "鲁亿幺二三四五的车"


def test_rule_multiply():
    assert normalize("7×24小时服务，请按*返回") == "七乘二十四小时服务，请按星号返回"


def test_rule_below_zero():
    assert normalize("今天-5℃") == "今天零下五摄氏度"


def test_rule_unit_symbol():
    assert normalize("面积90㎡，距离5km，气温18℃") == "面积九十平方米，距离五公里，气温十八摄氏度"


def test_rule_yuan_sign():
    assert normalize("¥50") == "五十元"


def test_rule_per_unit():
    assert normalize("每月50元/平方米") == "每月五十元每平方米"


def test_rule_room_number():
    assert normalize("3号楼2单元501室") == "三号楼二单元五零幺室"
    assert normalize("乘坐101路公交车") == "乘坐幺零幺路公交车"
    assert normalize("乘坐15路") == "乘坐十五路"  # short route numbers are cardinals


def test_rule_fraction():
    assert normalize("1/3的居民") == "三分之一的居民"
    assert normalize("12/1") == "十二、一"  # not a proper fraction: left to the pauses


def test_rule_date_range():
    assert normalize("2020-2025年") == "二零二零到二零二五年"
    assert normalize("1—3月") == "一到三月"
    assert normalize("5-8日") == "五到八日"


def test_rule_zero_minutes():
    assert normalize("12点05分") == "十二点零五分"
