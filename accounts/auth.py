"""Who is asking: session logins with expiry, bearer tokens, and the role decorators.

A page session holds the user id, the user's session epoch (bumped on password
change or deactivation), the login time and the last-seen time. It ends after
SESSION_IDLE_MINUTES without a request or SESSION_MAX_HOURS after login.
"""

from __future__ import annotations

import functools
import hmac
import time
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, jsonify, redirect, request, session, url_for

from accounts import service
from accounts.models import User
from accounts.service import user_for_token
from core.db import get_db

SERVICE_ACTOR = "api"
# Rewriting the cookie on every request is wasteful; last-seen is refreshed at most this often.
SEEN_REFRESH_SECONDS = 30


def _now() -> float:
    return time.time()


def login_user(user: User) -> None:
    """Start a fresh session for the user (a new cookie: no session fixation)."""
    session.clear()
    now = _now()
    session.update(uid=user.id, epoch=user.session_epoch, login_at=now, seen_at=now)
    g.user = user


def logout_user() -> None:
    """End the session on the server too: a copy of the cookie made before logging out
    no longer names a live session (the user's session epoch moves on; the user's
    sessions on other devices end as well)."""
    uid = session.get("uid")
    if uid is not None:
        with get_db().session() as s:
            user = s.get(User, uid)
            if user is not None and user.session_epoch == session.get("epoch"):
                service.end_sessions(user)
    session.clear()
    g.user = None


def check_session_expiry() -> None:
    """before_request: end a session that is idle or too old; refresh last-seen."""
    if "uid" not in session or request.endpoint == "static":
        return
    cfg = current_app.config
    now = _now()
    idle = float(cfg["SESSION_IDLE_MINUTES"]) * 60
    lifetime = float(cfg["SESSION_MAX_HOURS"]) * 3600
    if now - session.get("seen_at", 0) > idle or now - session.get("login_at", 0) > lifetime:
        session.clear()
        g.session_expired = True
        return
    if now - session["seen_at"] > SEEN_REFRESH_SECONDS:
        session["seen_at"] = now


def current_user() -> User | None:
    """The user of this request (session or per-user token), or None."""
    if "user" in g:
        return g.user
    user = None
    uid = session.get("uid")
    if uid is not None:
        with get_db().session() as s:
            user = s.get(User, uid)
        if user is None or not user.active or user.session_epoch != session.get("epoch"):
            session.clear()
            user = None
    g.user = user
    return user


def current_actor() -> str:
    """Name for the audit trail: the username, or "api" for the service token."""
    if g.get("api_actor"):
        return g.api_actor
    user = current_user()
    return user.username if user else "anonymous"


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def role_required(*roles: str):
    """Page decorator: anonymous -> login page; logged in with another role -> 403.

    With no roles, any logged-in user passes.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if g.get("session_expired"):
                    flash("会话已过期，请重新登录 Session expired, please log in again", "warning")
                nxt = request.full_path if request.method == "GET" else None
                return redirect(url_for("accounts.login", next=safe_next(nxt and nxt.rstrip("?"))))
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


login_required = role_required()


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unauthorized(message: str, status: int = 401):
    response = jsonify(error=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="hotline"'
    return response


def authenticate_api_request() -> bool:
    """Resolve the caller of an /api request; True when authenticated."""
    token = _bearer_token()
    if token is None:
        # A logged-in browser may use the API (its POSTs still need the CSRF header).
        return current_user() is not None
    service = current_app.config.get("HOTLINE_API_TOKEN")
    if service and hmac.compare_digest(token.encode(), str(service).encode()):
        g.user, g.api_actor = None, SERVICE_ACTOR
        return True
    with get_db().session() as s:
        user = user_for_token(s, token)
    g.user = user
    return user is not None


def api_auth_required(view=None, *, roles: tuple[str, ...] = ()):
    """Decorator for /api routes: Bearer HOTLINE_API_TOKEN (service) or a user token.

    Use bare (`@api_auth_required`) or with roles (`@api_auth_required(roles=("supervisor",))`);
    the service token passes every role check. Failures are JSON 401/403.
    """

    def decorator(fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            if not authenticate_api_request():
                return _unauthorized("authentication required: Authorization: Bearer <token>")
            user = current_user()
            if roles and user is not None and user.role not in roles:
                return _unauthorized(f"forbidden for role {user.role}", 403)
            return fn(*args, **kwargs)

        return wrapped

    return decorator(view) if view is not None else decorator


def department_scope() -> int | None:
    """The department a department user is confined to; None for everyone else."""
    user = current_user()
    if user is not None and user.role == "department":
        if user.department_id is None:  # never "no restriction" for a department user
            abort(403)
        return user.department_id
    return None


def forbid_unless(condition: bool) -> None:
    if not condition:
        abort(403)
