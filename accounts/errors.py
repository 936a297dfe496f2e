"""Errors of the accounts package."""

from __future__ import annotations

from datetime import datetime


class AccountError(Exception):
    """Base of every accounts error."""


class InvalidUser(AccountError, ValueError):
    """A user cannot be created or changed as asked (bad role, duplicate name…)."""


class BadCredentials(AccountError):
    """Unknown user, wrong password or deactivated account (never says which)."""


class LoginLocked(AccountError):
    """Too many failed logins; carries when the lock ends."""

    def __init__(self, until: datetime):
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until
