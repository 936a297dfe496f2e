"""Login and logout pages."""

from __future__ import annotations

import math
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from accounts.auth import current_user, login_user, logout_user, safe_next
from accounts.errors import BadCredentials, LoginLocked
from accounts.forms import LoginForm
from accounts.service import authenticate
from accounts.throttle import client_address
from core.db import get_db, utcnow

bp = Blueprint("accounts", __name__)

HOME_BY_ROLE = {"department": "tickets_pages.inbox"}
DEFAULT_HOME = "tickets_pages.ticket_list"


def home_url(user) -> str:
    endpoint = HOME_BY_ROLE.get(user.role, DEFAULT_HOME)
    if endpoint in current_app.view_functions:
        return url_for(endpoint)
    return url_for("accounts_admin.account")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        user = current_user()
        if user is not None and not form.next.data:
            return redirect(home_url(user))
    status = 200
    if form.validate_on_submit():
        cfg = current_app.config
        try:
            # The failure counters must be committed even when the login fails.
            with get_db().session() as s:
                try:
                    user = authenticate(
                        s,
                        form.username.data,
                        form.password.data,
                        address=client_address(
                            request.remote_addr,
                            request.headers.get("X-Forwarded-For"),
                            int(cfg.get("TRUSTED_PROXIES") or 0),
                        ),
                        max_failures=int(cfg["LOGIN_MAX_FAILURES"]),
                        lockout=timedelta(minutes=float(cfg["LOGIN_LOCKOUT_MINUTES"])),
                    )
                    error = None
                except BadCredentials as exc:
                    error = exc
        except LoginLocked as exc:
            minutes = max(1, math.ceil((exc.until - utcnow()).total_seconds() / 60))
            current_app.logger.warning("login locked for %r", form.username.data[:64])
            flash(
                f"登录失败次数过多，请 {minutes} 分钟后再试 "
                f"Too many failed logins, try again later",
                "error",
            )
            return render_template("accounts/login.html", form=form), 429
        if error is None:
            login_user(user)
            current_app.logger.info("login %s (%s)", user.username, user.role)
            return redirect(safe_next(form.next.data) or home_url(user))
        flash("用户名或密码错误 Wrong username or password", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash("已退出登录 Logged out", "info")
    return redirect(url_for("accounts.login"))
