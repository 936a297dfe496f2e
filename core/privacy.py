"""Masking of citizens' personal data before it reaches a log line."""

from __future__ import annotations

import logging
import re

_KEEP_HEAD = 3
_KEEP_TAIL = 4
_NUMBER_RE = re.compile(r"\+?\d[\d\- ]{6,}\d")


def mask_number(number: str | None) -> str:
    """'+8613812345678' -> '+86138****5678'; short or empty values are fully masked."""
    if not number:
        return "-"
    digits = number.strip()
    plus = digits.startswith("+")
    body = digits[1:] if plus else digits
    if len(body) <= _KEEP_HEAD + _KEEP_TAIL:
        return ("+" if plus else "") + "*" * len(body)
    masked = body[:_KEEP_HEAD + (2 if plus else 0)] + "****" + body[-_KEEP_TAIL:]
    return ("+" if plus else "") + masked


def mask_text(text: str) -> str:
    """Mask every phone-number-looking run in free text."""
    return _NUMBER_RE.sub(lambda m: mask_number(re.sub(r"[\- ]", "", m.group(0))), text)


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
