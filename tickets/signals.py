"""What tickets announce to the packages above them, as blinker signals.

Tickets sit below callbacks (and anything else that reacts to a ticket's life):
they must not import their listeners. A listener connects at import time and is
called synchronously, inside the sender's transaction (`session`), so what it
writes commits or rolls back with the ticket.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A department's reply was accepted and the ticket is resolved (flushed, not committed).
# Sent with sender=ticket, session=the open Session.
ticket_resolved = _signals.signal("ticket-resolved")
