"""Users of the supervisor pages and the API, and the login-failure counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow

ROLES = ("supervisor", "agent", "department")
ROLE_LABELS = {
    "supervisor": "班长 Supervisor",
    "agent": "话务员 Agent",
    "department": "承办部门 Department",
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # tickets.departments.id; no FK so the accounts branch migrates on its own
    # (the department table belongs to the tickets branch).
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # SHA-256 of the bearer token: tokens are 256-bit random, so a fast hash is enough
    # and lets us look the token up by index.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Bumped on password change / deactivation: invalidates every open session.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginFailure(Base):
    """Failed logins per key ("user:<name>" or "ip:<addr>"), shared by every worker."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
