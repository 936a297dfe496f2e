"""Masking of citizens' personal data before it reaches a log line."""

from __future__ import annotations

import logging
import re

_KEEP_HEAD = 3
_KEEP_TAIL = 4
# Phone numbers only: E.164 (+86…), mainland mobiles (1[3-9] + 9 digits) and landlines with
# an area code (0xx-xxxxxxxx). Dates (20261126) and ticket numbers (14 digits) are not
# personal data and stay readable; the lookarounds stop matches inside longer digit runs.
_NUMBER_RE = re.compile(
    r"(?<![\d+])(?:(?:\+|%2[Bb])\d{7,15}|1[3-9]\d{9}|0\d{2,3}[- ]?\d{7,8})(?!\d)"
)


def mask_number(number: str | None) -> str:
    """'+8613812345678' -> '+86138****5678'; short or empty values are fully masked."""
    if not number:
        return "-"
    digits = number.strip()
    plus = digits.startswith("+")
    body = digits[1:] if plus else digits
    if len(body) <= _KEEP_HEAD + _KEEP_TAIL:
        return ("+" if plus else "") + "*" * len(body)
    masked = body[: _KEEP_HEAD + (2 if plus else 0)] + "****" + body[-_KEEP_TAIL:]
    return ("+" if plus else "") + masked


def mask_text(text: str) -> str:
    """Mask every phone-number-looking run in free text."""

    def _mask(match: re.Match) -> str:
        number = re.sub(r"[\- ]", "", match.group(0))
        return mask_number("+" + number[3:] if number[:3].upper() == "%2B" else number)

    return _NUMBER_RE.sub(_mask, text)


class MaskingFilter(logging.Filter):
    """Logging filter that masks phone numbers in every formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking(level: str = "INFO") -> None:
    """Configure root logging once, with the masking filter on every handler."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
