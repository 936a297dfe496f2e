"""The call simulator: a phone that calls the app exactly as Twilio would.

Owns `simulator.phone` (the TwiML-following phone library), `simulator.port`
(the telephony port whose outgoing calls that phone answers: TELEPHONY=simulator),
scripted and terminal callers,
and the `flask ivr call` command. It talks to the app only over its webhooks,
never through ivr's internals, so what it shows is what Twilio would see.
"""

from __future__ import annotations


def init_app(app) -> None:
    from simulator import cli, port
    from telephony import ports

    ports.register("simulator", port.SimulatorPort.from_config)
    cli.init_app(app)
