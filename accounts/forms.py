"""Forms of the accounts pages (Flask-WTF: every form carries the CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField("用户名 Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码 Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
