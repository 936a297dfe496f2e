"""Follow-up calls: satisfaction surveys (智能回访) and return calls to missed callers (漏接回拨).

Owns the callback tables, the calling policy, the scheduler process
(`flask callbacks run`), the answer and status webhooks of outgoing calls (what
the citizen hears is the flow's `survey` / `return_call` entry, run by ivr) and
the supervisor page.
Web workers only write request rows; only the scheduler process dials (through
`telephony`). Must not touch tickets' or ivr's tables except through their
services (tickets.service) and read-only queries of ivr call records.
"""

from __future__ import annotations

from accounts.csrf import csrf


def init_app(app) -> None:
    from callbacks import cli, health, outcomes, pages, voice

    app.register_blueprint(voice.bp)
    outcomes.connect()
    app.register_blueprint(pages.bp)
    csrf.exempt(voice.bp)  # signed by Twilio instead (telephony.signature)
    app.cli.add_command(cli.callbacks_cli)
    health.init_app(app)
