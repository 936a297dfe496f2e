"""What the follow-up caller says, and how spoken answers map to survey results.

The personalised sentence follows the 12345 practice: who calls, which
request, the department's reply, then the choices (with the opt-out key
announced). Spoken answers are matched by the speech grammar against WORDS.
"""

from __future__ import annotations

from callbacks.models import BASICALLY_SATISFIED, DISSATISFIED, SATISFIED

OPT_OUT_KEY = "9"
KEYS = {"1": SATISFIED, "2": BASICALLY_SATISFIED, "3": DISSATISFIED}
MAX_REPLY_CHARS = 120  # a long reply is cut: the citizen has the full text by SMS/web

# Spoken variants -> result; the grammar recognises exactly these words.
WORDS: dict[str, str] = {
    "满意": SATISFIED,
    "非常满意": SATISFIED,
    "很满意": SATISFIED,
    "挺满意": SATISFIED,
    "比较满意": SATISFIED,
    "基本满意": BASICALLY_SATISFIED,
    "还可以": BASICALLY_SATISFIED,
    "还行": BASICALLY_SATISFIED,
    "一般": BASICALLY_SATISFIED,
    "不满意": DISSATISFIED,
    "不太满意": DISSATISFIED,
    "很不满意": DISSATISFIED,
    "非常不满意": DISSATISFIED,
}

CHOICES = "满意请按1或说满意，基本满意请按2，不满意请按3。今后不希望接到回访电话请按9。"
NOT_HEARD = "抱歉，没有听清您的选择。"
THANKS_RESULT = "感谢您的评价。如您还有其他意见，请在提示音后留言，说完请按井号键。"
GOODBYE = "感谢您对12345热线的支持，再见。"
OPTED_OUT = "已为您登记，今后不再拨打回访电话。感谢您的支持，再见。"
UNANSWERED = "没有收到您的选择，我们稍后再联系您。再见。"
SORRY = "抱歉，系统暂时无法完成回访，我们稍后再联系您。再见。"
RETURN_CALL = (
    "您好，这里是12345政务服务热线。您刚才来电时坐席繁忙，未能接通，现在为您转接人工服务，请稍候。"
)


def survey_text(script: dict) -> str:
    """'您好，这里是12345政务服务热线。您于11月3日反映的供暖问题，承办单位答复：……。' + choices."""
    parts = ["您好，这里是12345政务服务热线。"]
    reported, topic = script.get("reported_on"), script.get("topic")
    if reported and topic:
        parts.append(f"您于{reported}反映的{topic}问题，")
    elif reported:
        parts.append(f"您于{reported}反映的问题，")
    else:
        parts.append("您反映的问题，")
    reply = (script.get("reply") or "").strip().rstrip("。")
    if len(reply) > MAX_REPLY_CHARS:
        reply = reply[:MAX_REPLY_CHARS] + "……"
    parts.append(f"承办单位答复：{reply}。" if reply else "承办单位已经办结。")
    parts.append("请您对办理结果进行评价。" + CHOICES)
    return "".join(parts)


def result_for_word(word: str | None) -> str | None:
    return WORDS.get((word or "").strip())


FIXED_PROMPTS = (NOT_HEARD, THANKS_RESULT, GOODBYE, OPTED_OUT, UNANSWERED, SORRY, RETURN_CALL)
