"""Who sees a caller's full phone number: one policy for pages, API and CSV.

A citizen's number is personal data. The people who take and supervise calls
(and the service token, which other city systems use to call back) see it whole;
a department works a ticket from its description and sees the number masked,
whether it looks at a page, the API (token or browser session) or an export.
"""

from __future__ import annotations

from flask import g, has_request_context

from accounts import current_user
from accounts.auth import SERVICE_ACTOR
from core.privacy import mask_number

FULL_NUMBER_ROLES = ("supervisor", "agent")


def sees_full_number() -> bool:
    """True for supervisors, agents and the service token; False otherwise (and
    outside a request, where nobody is known)."""
    if not has_request_context():
        return False
    if g.get("api_actor") == SERVICE_ACTOR:
        return True
    user = current_user()
    return user is not None and user.role in FULL_NUMBER_ROLES


def shown_number(number: str | None) -> str | None:
    """The caller number as the current user may see it."""
    if number is None or sees_full_number():
        return number
    return mask_number(number)
