"""The scheduler lease on every database backend: one holder, renewal, takeover on expiry."""

from datetime import timedelta

import pytest

from callbacks.lease import Lease
from callbacks.models import aware
from core.db import Database, utcnow


@pytest.mark.store
def test_one_holder_until_the_lease_expires(database_url):
    db = Database(database_url)
    try:
        alpha, beta = Lease(db, "alpha", ttl_seconds=30), Lease(db, "beta", ttl_seconds=30)
        now = utcnow()
        assert alpha.acquire(now)
        assert not beta.acquire(now + timedelta(seconds=1))
        assert alpha.acquire(now + timedelta(seconds=10))  # heartbeat renews
        assert aware(alpha.taken_at()) == now  # a renewal is not a change of hands
        assert not beta.acquire(now + timedelta(seconds=39))  # renewed until 40 s
        assert beta.acquire(now + timedelta(seconds=41))  # alpha died: takeover
        assert not alpha.acquire(now + timedelta(seconds=42))  # and alpha stays out
        assert beta.current()[0] == "beta"
        assert aware(beta.taken_at()) == now + timedelta(seconds=41)
        beta.release()
        assert alpha.acquire(now + timedelta(seconds=43))  # released: no waiting
    finally:
        db.dispose()
