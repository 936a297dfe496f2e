"""Choosing the outgoing-call port by the TELEPHONY setting.

Kept apart from `base` so the interface never imports its implementations.
"""

from __future__ import annotations

from telephony.base import TelephonyError, TelephonyPort
from telephony.simulator_port import SimulatorPort
from telephony.twilio_port import TwilioPort


def make_port(config) -> TelephonyPort:
    """The port named by TELEPHONY ('twilio' or 'simulator')."""
    kind = str(config.get("TELEPHONY") or "simulator")
    if kind == "twilio":
        return TwilioPort.from_config(config)
    if kind == "simulator":
        return SimulatorPort.from_config(config)
    raise TelephonyError(
        f"TELEPHONY must be 'twilio' or 'simulator', not {kind!r}", transient=False
    )
