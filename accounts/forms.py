"""Forms of the accounts pages (Flask-WTF: every form carries the CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from accounts.models import ROLE_LABELS
from accounts.service import MIN_PASSWORD_LENGTH


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms options (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def _optional_int(value) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class LoginForm(FlaskForm):
    username = StringField("用户名 Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码 Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField("当前密码 Current password", validators=[DataRequired()])
    new = PasswordField(
        "新密码 New password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
    )
    confirm = PasswordField(
        "确认新密码 Repeat new password",
        validators=[DataRequired(), EqualTo("new", message="两次输入不一致")],
    )


class UserForm(FlaskForm):
    username = StringField("用户名 Username", validators=[DataRequired(), Length(max=64)])
    display_name = StringField("姓名 Name", validators=[Optional(), Length(max=100)])
    role = SelectField("角色 Role", choices=choices(ROLE_LABELS.items()))
    department = SelectField(
        "部门 Department (承办部门用户)", coerce=_optional_int, validate_choice=False
    )
    password = PasswordField(
        "初始密码 Initial password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )
