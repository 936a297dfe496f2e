"""Request body limits, enforced before anything parses a body.

Parsing is the expensive part of a hostile request, and it happens before any
check can refuse it: a Twilio signature is computed over every form field, so a
32 MB form of four million empty keys cost a worker a minute of CPU and 1.5 GB
before the 403. So every request is measured first, from its Content-Length
(or while reading, for a chunked body), and refused with 413 at once:

- a request that carries `X-Twilio-Signature` is a webhook: Twilio's are a few
  kB with a few dozen fields (`WEBHOOK`);
- routes that take files opt in to `UPLOAD` with `@body_limit(UPLOAD)`;
- every other form or JSON request gets `FORM`.

A form's field count is capped too (counted on the raw bytes, before parsing),
and a JSON body nested too deep for the parser is a 400, not a RecursionError.
A 413 closes the connection, so the server does not read the rest of the body.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

SIGNATURE_HEADER = "X-Twilio-Signature"


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    max_fields: int


WEBHOOK = BodyLimit(max_bytes=64 * 1024, max_fields=200)
FORM = BodyLimit(max_bytes=1024 * 1024, max_fields=1000)
UPLOAD = BodyLimit(max_bytes=32 * 1024 * 1024, max_fields=1000)
URLENCODED = "application/x-www-form-urlencoded"


def body_limit(limit: BodyLimit):
    """Decorator for a view that takes bodies beyond FORM (uploads)."""

    def mark(view):
        view.body_limit = limit
        return view

    return mark


def limit_for_request() -> BodyLimit:
    if SIGNATURE_HEADER in request.headers:
        return WEBHOOK
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "body_limit", FORM)


def enforce() -> None:
    """before_request: refuse a body over its route's limit before it is read."""
    limit = limit_for_request()
    # One byte over the limit is read, to tell "exactly the limit" from "cut off".
    request.max_content_length = limit.max_bytes + 1
    request.max_form_parts = limit.max_fields
    length = request.content_length
    if length is not None and length > limit.max_bytes:
        abort(413)
    chunked = length is None and "chunked" in request.headers.get("Transfer-Encoding", "")
    if chunked or request.mimetype == URLENCODED:
        # The body is parsed later from these cached bytes, so it is read once.
        body = request.get_data(cache=True)
        if len(body) > limit.max_bytes:
            abort(413)
        if request.mimetype == URLENCODED and body.count(b"&") >= limit.max_fields:
            abort(413)


def _close_after_413(response):
    """after_request: a 413 closes the connection, so the server drops the unread body
    instead of reading it to find the next request."""
    if response.status_code == RequestEntityTooLarge.code:
        response.headers["Connection"] = "close"
    return response


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with a body nested past the parser's recursion limit a ValueError
    (Flask answers 400, or `get_json(silent=True)` gives None)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def init_app(app) -> None:
    """Register first, so the limit applies before any other hook reads the form (CSRF)."""
    app.before_request_funcs.setdefault(None, []).insert(0, enforce)
    app.after_request(_close_after_413)
    app.json = JSONProvider(app)
