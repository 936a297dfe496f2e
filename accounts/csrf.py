"""CSRF protection for every form and every cookie-authenticated write.

Flask-WTF's CSRFProtect checks the token; we decide when. Exempt are:
- blueprints/views marked with `csrf.exempt(bp)` (Twilio webhooks of ivr, callbacks);
- requests carrying `Authorization: Bearer …` or `X-Twilio-Signature`: a cross-site
  form cannot set headers, and those requests are authenticated by the header
  itself (token, or the webhook signature checked by telephony.signature), not by
  the session cookie a forged request would ride on.
"""

from __future__ import annotations

from flask import request, session
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

HEADER_AUTHENTICATED = ("X-Twilio-Signature",)


def _header_authenticated() -> bool:
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return True
    return any(request.headers.get(h) for h in HEADER_AUTHENTICATED)


def _anonymous_api_request() -> bool:
    # No logged-in session: nothing for a forged request to ride on, and
    # api_auth_required answers it with 401 (not a CSRF 400).
    return request.path.startswith("/api/") and session.get("uid") is None


def protect() -> None:
    """before_request: validate the CSRF token unless the request is exempt."""
    if _header_authenticated() or _anonymous_api_request():
        return
    csrf.protect(apply_exemptions=True)


def init_app(app) -> None:
    # We call protect() ourselves (to honour header-authenticated requests).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # The token lives as long as the session; session expiry bounds it instead.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.before_request(protect)
