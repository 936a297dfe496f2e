"""Check that a webhook really comes from Twilio (X-Twilio-Signature).

The signature covers the URL Twilio called. Behind a proxy the URL Flask sees
differs (http vs https, host, port), so the URL is rebuilt from PUBLIC_BASE_URL
plus the request's path and query string. A missing or wrong signature gets
403 before the view runs, so nothing is written.
"""

from __future__ import annotations

import functools
import logging

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Twilio-Signature"


def public_url() -> str:
    """The URL Twilio used for the current request."""
    query = request.query_string.decode("latin-1")
    return current_app.config["PUBLIC_BASE_URL"] + request.path + (f"?{query}" if query else "")


def signed_url(path: str) -> str:
    """Absolute URL under PUBLIC_BASE_URL, for TwiML action/callback attributes."""
    return current_app.config["PUBLIC_BASE_URL"] + path


def is_valid_request() -> bool:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    validator = RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"])
    params = request.form.to_dict(flat=True) if request.method == "POST" else {}
    return validator.validate(public_url(), params, signature)


def twilio_request_required(view):
    """Decorator for Twilio-facing routes: 403 unless X-Twilio-Signature is valid."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not is_valid_request():
            log.warning("rejected unsigned or forged webhook %s %s", request.method, request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def sign(url: str, params: dict, token: str) -> str:
    """The signature Twilio would send for this URL and form (tests, simulator)."""
    return RequestValidator(token).compute_signature(url, params)
