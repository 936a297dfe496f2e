"""Console: supervisor pages that combine several packages.

A page that shows one package's data lives in that package (tickets' ticket
pages, callbacks' page, the studio). A page that brings several together lives
here, on top of them, so the packages below never import each other for a page:
the dashboard puts tickets' figures and surge alerts beside the phone line's
incident notices (ivr.notices). Owns no tables.
"""

from __future__ import annotations


def init_app(app) -> None:
    from console import dashboard

    app.register_blueprint(dashboard.bp)
