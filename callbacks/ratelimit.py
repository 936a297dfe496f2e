"""A sliding-window limit on calls per second (Twilio's CPS), with an injectable clock."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

WINDOW_SECONDS = 1.0


class Slot:
    """One acquisition; counts from `at` (moved to the provider's answer by `done`)."""

    __slots__ = ("at",)

    def __init__(self, at: float):
        self.at = at


class CallRateLimiter:
    """At most `rate` acquisitions in any window of one second (rate may be fractional)."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        # A fractional rate (0.5 CPS) becomes one call per 1/rate seconds.
        self.per_window = max(1, math.floor(rate))
        self.window = WINDOW_SECONDS if rate >= 1 else 1.0 / rate
        self.clock, self.sleep = clock, sleep
        self._slots: list[Slot] = []
        self._lock = threading.Lock()

    def wait_time(self) -> float:
        """Seconds until one more call would keep the limit (0: now)."""
        now = self.clock()
        self._slots = [slot for slot in self._slots if now - slot.at < self.window]
        if len(self._slots) < self.per_window:
            return 0.0
        return min(slot.at for slot in self._slots) + self.window - now

    def acquire(self, deadline: float | None = None) -> Slot | None:
        """Block until a call may be placed; None if that would pass `deadline` (clock time)."""
        with self._lock:
            while (delay := self.wait_time()) > 0:
                if deadline is not None and self.clock() + delay > deadline:
                    return None
                self.sleep(delay)
            slot = Slot(self.clock())
            self._slots.append(slot)
            return slot

    def done(self, slot: Slot) -> None:
        """The request of this acquisition has been answered: count its slot from now.

        The provider counts a call when it receives it, somewhere between our send and its
        answer; counting from the answer keeps the cap whatever the network's jitter.
        """
        with self._lock:
            slot.at = max(slot.at, self.clock())
