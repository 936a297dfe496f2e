"""Stopping a long-running process on SIGTERM / SIGINT without a lock in the signal handler.

Python runs a signal handler in the main thread between two bytecodes, possibly
while that thread is inside `threading.Event.set()` holding the Event's lock
(which is not re-entrant). A handler that calls `Event.set()` itself then waits
forever for a lock its own thread holds: a second signal (Ctrl-C, then the
supervisor's TERM to the process group, then `scripts/run`'s own kill) leaves a
worker that ignores every further SIGTERM.

And the kernel may deliver the signal to any thread: then the Python handler only
runs once the main thread's current wait ends (a minute, waiting for a model).
So the Python handler does nothing at all; CPython's own C handler writes the
signal number to a wakeup pipe (`signal.set_wakeup_fd`), whichever thread it
interrupted, and a small thread reading that pipe sets the Event.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import sys
import threading

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopOnSignal:
    """Set `event` when one of `signals` arrives; install from the main thread."""

    def __init__(self, event: threading.Event | None = None, signals=STOP_SIGNALS):
        self.event = event or threading.Event()
        self.signalled = False
        self._read, write = os.pipe()
        os.set_blocking(write, False)  # a full pipe drops the byte: a stop is already pending
        self._previous_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        self._previous = {sig: signal.signal(sig, _no_lock) for sig in signals}
        threading.Thread(target=self._watch, name="stop-on-signal", daemon=True).start()

    def _watch(self) -> None:
        while os.read(self._read, 64):
            self.signalled = True
            self.event.set()

    def exit_if_signalled(self) -> None:
        """After the process has stopped cleanly: exit at once if a signal asked for it."""
        if self.signalled:
            exit_promptly(0)

    def restore(self) -> None:
        """Put the previous handlers back (tests, or a process that keeps running)."""
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        signal.set_wakeup_fd(self._previous_fd)


def _no_lock(_signum, _frame) -> None:
    """The Python-level handler: nothing (the wakeup pipe carries the signal)."""


def exit_promptly(code: int = 0) -> None:
    """End a stopped process now: exit handlers run and logs are flushed, but the
    interpreter's teardown (seconds of garbage collection over numpy, scipy and pandas
    modules on a busy machine) is skipped, so a supervisor's stop takes well under 5 s."""
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
