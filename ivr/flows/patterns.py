"""Keypad patterns a supervisor may write, limited to ones that match in linear-ish time.

Python's `re` backtracks, holds the GIL while it does, and cannot be interrupted:
a pattern such as `(\\d|\\d)*#` takes minutes on 40 digits and stalls every call the
process serves. So `flows check` accepts only patterns whose worst case is bounded:
no repeated part that can match the same digits in two ways (a repeat of something
variable-width or with alternatives), no backreferences or lookarounds, a handful of
variable-width repeats in all, and a short pattern. Inputs are bounded too: the
engine matches keypad digits only, at most the node's max_length (≤ 50).
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the stdlib's own parse tree (sre_parse is deprecated)

MAX_PATTERN_LENGTH = 200
# Variable-width repeats in a whole pattern: k of them cost at most about n**k steps.
MAX_VARIABLE_REPEATS = 3
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
_REFUSED = {
    "GROUPREF": "backreferences",
    "GROUPREF_EXISTS": "conditional groups",
    "ASSERT": "lookarounds",
    "ASSERT_NOT": "lookarounds",
}


class SlowPattern(ValueError):
    """A pattern that could take seconds to match (the message says why)."""


def check_pattern(pattern: str) -> re.Pattern:
    """Compile a keypad pattern, or raise re.error (invalid) or SlowPattern (too costly)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise SlowPattern(f"longer than {MAX_PATTERN_LENGTH} characters")
    compiled = re.compile(pattern)
    variable = _walk(sre_parse.parse(pattern), repeated=False)
    if variable > MAX_VARIABLE_REPEATS:
        raise SlowPattern(
            f"{variable} variable-length repeats (at most {MAX_VARIABLE_REPEATS}): "
            "give exact lengths such as \\d{11}"
        )
    return compiled


def _walk(items, *, repeated: bool) -> int:
    """Refuse what cannot be bounded; return the number of variable-width repeats."""
    variable = 0
    for op, arg in items:
        name = str(op)
        if name in _REFUSED:
            raise SlowPattern(f"{_REFUSED[name]} are not allowed")
        if name == "BRANCH":
            if repeated:
                raise SlowPattern(
                    "alternatives inside a repeated group can match the same digits in many "
                    "ways: use a character class such as [0-9] instead"
                )
            variable += sum(_walk(branch, repeated=False) for branch in arg[1])
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            variable += _walk(arg[-1], repeated=repeated)
        elif name in _REPEATS:
            low, high, body = arg
            if repeated and low != high:
                raise SlowPattern(
                    "a variable-length repeat inside a repeated group can match the same "
                    "digits in many ways (nested quantifiers)"
                )
            variable += low != high
            variable += _walk(body, repeated=repeated or high > 1)
    return variable
