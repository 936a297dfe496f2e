"""Choosing the outgoing-call port by the TELEPHONY setting.

Kept apart from `base` so the interface never imports its implementations.
"""

from __future__ import annotations

from core.config import value
from telephony.base import TelephonyError, TelephonyPort
from telephony.simulator_port import SimulatorPort
from telephony.twilio_port import TwilioPort


def make_port(config) -> TelephonyPort:
    """The port named by TELEPHONY ('twilio' or 'simulator'; unset: the simulator)."""
    try:
        kind = value(config, "TELEPHONY") or "simulator"
    except ValueError as exc:
        raise TelephonyError(str(exc), transient=False) from exc
    return TwilioPort.from_config(config) if kind == "twilio" else SimulatorPort.from_config(config)
