"""Response headers that protect logged-in pages (framing, sniffing, caching, cookies)."""

from __future__ import annotations

from flask import g

HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",  # no clickjacking of the action forms
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # ticket numbers in URLs stay on our site
}


def secure_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # Pages shown to a logged-in user hold citizens' personal data: not kept in the
    # browser's cache (the back button after logout must not show them).
    if g.get("user") is not None and response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def init_app(app) -> None:
    # Behind https (PUBLIC_BASE_URL), the session cookie never travels in clear text.
    if str(app.config["PUBLIC_BASE_URL"]).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.after_request(secure_headers)
