"""Calls before transcripts: the speech worker's decoding threads yield the CPU.

A transcript can wait seconds; a webhook cannot (the caller hears silence, and
Twilio gives up at 15 s). On the same cores as the web workers, a transcription
thread runs at niceness 19 (a normal thread outweighs it about 70 to 1) under
SCHED_BATCH (it never preempts a thread that wakes up, such as a web worker
answering a webhook). Not SCHED_IDLE: on a machine the web tier keeps busy,
transcripts would then never be made; at nice 19 they are late, not lost.
Threads taking spoken menu answers stay at normal priority: a caller waits on them.
On Linux both settings are per thread, so each thread lowers itself.
"""

from __future__ import annotations

import contextlib
import os

BACKGROUND_NICENESS = 19


def background() -> str:
    """Lower the calling thread to background priority; says what it got."""
    with contextlib.suppress(OSError):
        os.nice(max(0, BACKGROUND_NICENESS - os.nice(0)))
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_BATCH"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
            return f"SCHED_BATCH, nice {os.nice(0)}"
    return f"nice {os.nice(0)}"


def default_decode_threads() -> int:
    """One decoding thread per core, less one core left to the web workers."""
    return max(1, (os.cpu_count() or 1) - 1)
