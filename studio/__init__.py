"""The flow studio: supervisors edit, try, publish and restore flows.yaml in the browser.

Owns the /studio/ pages, the `studio_*` tables (revisions, drafts, web-phone
calls), the diagram and the web phone. It never edits ivr's engine or webhooks:
it validates with ivr.flows, writes FLOWS_PATH, and calls the app only over
its Twilio webhooks (through the simulator phone), in a sandbox app; or, on the
live line of simulator mode (studio.line), the app itself, as a citizen would.
"""

from __future__ import annotations


def init_app(app) -> None:
    if app.config.get("STUDIO_SANDBOX"):
        return  # the web phone's sandbox app needs no studio of its own
    from studio import line
    from studio.views import bp

    app.register_blueprint(bp)
    if app.config.get("TELEPHONY") == "simulator":
        app.register_blueprint(line.bp)  # on a real line the citizens are real
