"""Accounts: users, roles, login sessions, CSRF and API tokens.

Owns the `users` and `login_failures` tables (Alembic branch "accounts"), the
/login, /logout, /account (own password) and /users/ (supervisors: users and API
tokens) pages, CSRF protection and protective headers for the whole app, the
navigation bar of base.html, and the `flask users` CLI. Must not touch other
packages' tables (the departments a user may belong to come from the directory
tickets installs: accounts.departments).

Interface for the other packages::

    from accounts import (api_auth_required, csrf, current_actor, current_user,
                          department_scope, role_required)

    @bp.get("/tickets/")
    @role_required("supervisor", "agent")     # anonymous -> /login?next=…, other roles -> 403
    def ticket_list(): ...

    @bp.post("/api/tickets")
    @api_auth_required                         # Bearer HOTLINE_API_TOKEN or a user token
    def api_create(): ...                      # (or a logged-in session); else JSON 401
    # @api_auth_required(roles=("supervisor", "department")) restricts user tokens by role.

    current_user()      -> accounts.models.User | None  (.username, .role, .department_id)
    current_actor()     -> str for audit trails: username, or "api" for the service token
    department_scope()  -> department id a department user is confined to, else None
    csrf.exempt(bp)     -> exempt a blueprint (Twilio webhooks). Requests carrying
                           `Authorization: Bearer` or `X-Twilio-Signature` are exempt anyway.

Roles: supervisor (everything), agent (take calls, create/edit tickets, KB, dispatch),
department (its own inbox: read, reply/resolve its tickets). Templates get
`current_user` and `csrf_token()`; every POST form needs
`<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">`.

Sessions end after SESSION_IDLE_MINUTES idle or SESSION_MAX_HOURS after login (and
when the password changes or the user is deactivated); LOGIN_MAX_FAILURES failed
logins lock the username (x4: the client address, see TRUSTED_PROXIES behind nginx)
for LOGIN_LOCKOUT_MINUTES. CLI: `flask users create NAME --role R [--department D]`,
`flask users token NAME`, `flask users password|deactivate NAME`, `flask users list`.
"""

from __future__ import annotations

from accounts import csrf as _csrf
from accounts.auth import (
    api_auth_required,
    check_session_expiry,
    current_actor,
    current_user,
    department_scope,
    login_required,
    role_required,
)
from accounts.csrf import csrf

__all__ = [
    "api_auth_required",
    "csrf",
    "current_actor",
    "current_user",
    "department_scope",
    "init_app",
    "login_required",
    "role_required",
]


def init_app(app) -> None:
    from accounts import admin, cli, display, errors_pages, headers, nav, views

    _csrf.init_app(app)
    headers.init_app(app)
    display.init_app(app)
    app.before_request(check_session_expiry)
    app.context_processor(lambda: {"current_user": current_user()})
    app.jinja_env.globals["nav_items"] = nav.nav_items
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    errors_pages.init_app(app)
    app.cli.add_command(cli.users_cli)
