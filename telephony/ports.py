"""Choosing the outgoing-call port by the TELEPHONY setting.

Kept apart from `base` so the interface never imports its implementations. The
Twilio port is ours; another implementation registers itself (the simulator's
`SimulatorPort`, when the simulator package plugs into the app), so telephony
never imports the packages above it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from core.config import value
from telephony.base import TelephonyError, TelephonyPort
from telephony.twilio_port import TwilioPort

_FACTORIES: dict[str, Callable[[Mapping], TelephonyPort]] = {"twilio": TwilioPort.from_config}


def register(name: str, factory: Callable[[Mapping], TelephonyPort]) -> None:
    """Make TELEPHONY=name build its port with factory(config)."""
    _FACTORIES[name] = factory


def make_port(config) -> TelephonyPort:
    """The port named by TELEPHONY ('twilio' or 'simulator'; unset: the simulator)."""
    try:
        kind = value(config, "TELEPHONY") or "simulator"
    except ValueError as exc:
        raise TelephonyError(str(exc), transient=False) from exc
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise TelephonyError(
            f"no {kind!r} telephony port in this process (the simulator package registers it)",
            transient=False,
        )
    return factory(config)
