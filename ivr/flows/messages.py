"""Built-in system prompts a flow may override under `flow.messages`."""

from __future__ import annotations

DEFAULT_MESSAGES: dict[str, dict[str, str]] = {
    "invalid": {
        "zh-CN": "您的输入有误，请重新选择。",
        "en-US": "Sorry, that is not a valid choice.",
    },
    "timeout": {"zh-CN": "我们没有收到您的按键。", "en-US": "We did not receive your input."},
    "listen": {
        "zh-CN": "您也可以在提示音后直接说出您要办理的业务。",
        "en-US": "You can also say what you need after the tone.",
    },
    "apology": {
        "zh-CN": "非常抱歉，系统暂时出现问题，正在为您转接人工服务。",
        "en-US": "We are sorry, something went wrong. Transferring you to an operator.",
    },
    "hold": {"zh-CN": "坐席正忙，请您稍候。", "en-US": "All our agents are busy, please hold."},
    "position": {
        "zh-CN": "您前面还有{position}位来电。",
        "en-US": "There are {position} callers ahead of you.",
    },
    "ticket_readback": {
        "zh-CN": "您的工单编号是：{digits}。我们会尽快处理并回复您。",
        "en-US": "Your ticket number is {digits}. We will call you back.",
    },
    "ticket_not_found": {
        "zh-CN": "没有查询到该工单，请核对工单编号。",
        "en-US": "We could not find that ticket number.",
    },
    "kb_missing": {
        "zh-CN": "抱歉，暂时没有相关信息。",
        "en-US": "Sorry, we have no information on that yet.",
    },
    "no_message": {"zh-CN": "我们没有听到您的留言。", "en-US": "We did not hear a message."},
}


# Digits read one by one, as an operator would: 1 as 幺 avoids confusion with 7.
_DIGIT_WORDS = {"zh-CN": "零幺二三四五六七八九"}


def spell_digits(number: str, language: str) -> str:
    """'2026' -> '二 零 二 六' (zh-CN) or '2, 0, 2, 6' so a TTS reads digit by digit."""
    words = _DIGIT_WORDS.get(language)
    digits = [c for c in number if c.isdigit()]
    if words:
        return " ".join(words[int(d)] for d in digits)
    return ", ".join(digits)
