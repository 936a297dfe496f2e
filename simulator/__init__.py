"""The call simulator: a phone that calls the app exactly as Twilio would.

Owns `simulator.phone` (the TwiML-following phone library, also used to answer
outgoing calls in the simulator telephony mode), scripted and terminal callers,
and the `flask ivr call` command. It talks to the app only over its webhooks,
never through ivr's internals, so what it shows is what Twilio would see.
"""

from __future__ import annotations


def init_app(app) -> None:
    from simulator import cli

    cli.init_app(app)
