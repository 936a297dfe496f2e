"""Login rate limiting: failures counted per username and per client address.

Counters live in the database so every worker process sees the same ones. A
key that reaches its limit is locked for LOGIN_LOCKOUT_MINUTES; a success
clears the username's counter (not the address's: one good account must not
reset a password-guessing run against others from the same address).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from accounts.errors import LoginLocked
from accounts.models import LoginFailure
from core.db import utcnow

# An address serves many users (an office behind one NAT), so it gets a wider limit.
ADDRESS_LIMIT_FACTOR = 4


def _aware(dt: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes even for timezone=True columns.
    if dt is not None and dt.tzinfo is None:
        from datetime import UTC

        return dt.replace(tzinfo=UTC)
    return dt


def client_address(
    remote_addr: str | None, forwarded_for: str | None, trusted_proxies: int
) -> str | None:
    """The client's address: behind N trusted proxies, the Nth X-Forwarded-For entry from the
    right (entries further left are whatever the client chose to send)."""
    if trusted_proxies <= 0 or not forwarded_for:
        return remote_addr
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    return hops[-trusted_proxies] if len(hops) >= trusted_proxies else remote_addr


def keys_for(username: str, address: str | None) -> list[tuple[str, int]]:
    """The counters a login attempt touches, with the multiplier of each limit."""
    keys = [(f"user:{username.strip().lower()}"[:160], 1)]
    if address:
        keys.append((f"ip:{address}"[:160], ADDRESS_LIMIT_FACTOR))
    return keys


def check(s: Session, username: str, address: str | None, *, now: datetime | None = None) -> None:
    """Raise LoginLocked if the username or the address is locked out."""
    now = now or utcnow()
    for key, _factor in keys_for(username, address):
        row = s.get(LoginFailure, key)
        until = _aware(row.locked_until) if row else None
        if until and until > now:
            raise LoginLocked(until)


def record_failure(
    s: Session,
    username: str,
    address: str | None,
    *,
    max_failures: int,
    lockout: timedelta,
    now: datetime | None = None,
) -> None:
    """Count a failed attempt; lock a key once it reaches its limit within the lockout window."""
    now = now or utcnow()
    for key, factor in keys_for(username, address):
        row = s.get(LoginFailure, key, with_for_update=True)
        if row is None:
            row = LoginFailure(key=key, failures=0, first_failure_at=now)
            s.add(row)
        elif _aware(row.first_failure_at) < now - lockout:
            # Old failures expire: the count is per window, not forever.
            row.failures, row.first_failure_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= max_failures * factor:
            row.locked_until = now + lockout
    s.flush()


def record_success(s: Session, username: str) -> None:
    row = s.get(LoginFailure, keys_for(username, None)[0][0])
    if row is not None:
        s.delete(row)
        s.flush()
