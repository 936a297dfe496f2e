"""Signals the front door sends as callers move, for packages that act on them.

Sent inside the webhook's transaction (receivers get it as `s`), so what a
receiver writes commits with the turn or not at all; sender is the Flask app.

    queue_joined(app, s=, call_sid=, queue=, caller=)   the caller was put in a queue
    queue_left(app, s=, call_sid=, result=)             the caller left it; result is an
                                                        ivr.flows.events.QueueOutcome value
    call_result(app, s=, call_sid=, result=, heard=)    a `result` node was reached: result
                                                        is one of schema.RESULTS; heard, the
                                                        spoken word that chose it (or None)
    opt_out(app, s=, call_sid=, number=)                the citizen asked never to be called
                                                        again (an `opt_out` node)
    comment_recorded(app, s=, call_sid=, recording_url=, recording_sid=)
                                                        a `record` node with `into: comment`
                                                        kept the citizen's comment
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
queue_joined = _signals.signal("queue-joined")
queue_left = _signals.signal("queue-left")
call_result = _signals.signal("call-result")
opt_out = _signals.signal("opt-out")
comment_recorded = _signals.signal("comment-recorded")
