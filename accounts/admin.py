"""Account pages: change one's own password; supervisors manage users and API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash

from accounts import departments, service
from accounts.auth import current_actor, current_user, login_required, login_user, role_required
from accounts.errors import InvalidUser
from accounts.forms import PasswordForm, UserForm, choices
from accounts.models import ROLE_LABELS, User
from core.db import get_db

bp = Blueprint("accounts_admin", __name__)


def _departments() -> list[tuple[int, str]]:
    """(id, name) of the active departments, for department users."""
    with get_db().session() as s:
        return departments.directory().active(s)


def _user_form() -> UserForm:
    form = UserForm()
    form.department.choices = choices([("", "—"), *_departments()])
    return form


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Who am I; change my password (which ends my other sessions)."""
    form = PasswordForm()
    if form.validate_on_submit():
        with get_db().session() as s:
            user = s.get(User, current_user().id)
            correct = check_password_hash(user.password_hash, form.current.data)
            if correct:
                service.set_password(user, form.new.data)
        if correct:
            login_user(user)  # this session carries on with the new epoch
            current_app.logger.info("password changed by %s", user.username)
            flash("密码已修改 Password changed", "success")
            return redirect(url_for("accounts_admin.account"))
        form.current.errors = ["当前密码不正确 Wrong current password"]
    return render_template(
        "accounts/account.html",
        user=current_user(),
        form=form,
        departments=dict(_departments()),
        role_labels=ROLE_LABELS,
    )


@bp.get("/users/")
@role_required("supervisor")
def users():
    form = _user_form()
    with get_db().session() as s:
        rows = list(s.scalars(select(User).order_by(User.active.desc(), User.username)))
    return render_template(
        "accounts/users.html",
        users=rows,
        form=form,
        departments=dict(_departments()),
        role_labels=ROLE_LABELS,
    )


@bp.post("/users/")
@role_required("supervisor")
def create_user():
    form = _user_form()
    if form.validate_on_submit():
        try:
            with get_db().session() as s:
                user = service.create_user(
                    s,
                    form.username.data,
                    form.password.data,
                    role=form.role.data,
                    department_id=form.department.data if form.role.data == "department" else None,
                    display_name=form.display_name.data or None,
                )
        except InvalidUser as exc:
            flash(f"未创建 Not created: {exc}", "error")
        else:
            current_app.logger.info(
                "user %s (%s) created by %s", user.username, user.role, current_actor()
            )
            flash(f"已创建用户 Created {user.username}", "success")
    else:
        for field, errors in form.errors.items():
            flash(f"{field}: {'; '.join(errors)}", "error")
    return redirect(url_for("accounts_admin.users"))


def _user_or_404(s, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>/deactivate")
@role_required("supervisor")
def deactivate(user_id: int):
    if user_id == current_user().id:
        flash("不能停用自己的账户 You cannot deactivate yourself", "error")
        return redirect(url_for("accounts_admin.users"))
    with get_db().session() as s:
        user = _user_or_404(s, user_id)
        service.deactivate(user)
    current_app.logger.info("user %s deactivated by %s", user.username, current_actor())
    flash(f"已停用 Deactivated {user.username}", "success")
    return redirect(url_for("accounts_admin.users"))


@bp.post("/users/<int:user_id>/token")
@role_required("supervisor")
def issue_token(user_id: int):
    """A new API token, shown once on this response (never stored in the session cookie)."""
    with get_db().session() as s:
        user = _user_or_404(s, user_id)
        if not user.active:
            abort(404)
        token = service.issue_token(user)
    current_app.logger.info("API token issued for %s by %s", user.username, current_actor())
    response = render_template("accounts/token.html", user=user, token=token)
    return response, 200, {"Cache-Control": "no-store"}
