"""Signals the front door sends as callers move, for packages that act on them.

Sent inside the webhook's transaction (receivers get it as `s`), so what a
receiver writes commits with the turn or not at all; sender is the Flask app.

    queue_joined(app, s=, call_sid=, queue=, caller=)   the caller was put in a queue
    queue_left(app, s=, call_sid=, result=)             the caller left it; result is an
                                                        ivr.flows.events.QueueOutcome value
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
queue_joined = _signals.signal("queue-joined")
queue_left = _signals.signal("queue-left")
