"""How the simulated phone reaches the app: real HTTP, or a Flask test client.

Twilio signs the *public* URL (PUBLIC_BASE_URL + path); the transport maps
that URL onto wherever the app actually listens, so the signature the phone
computes is the one the app recomputes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

HTTP_TIMEOUT = 30  # seconds; Twilio gives a webhook 15 s, a local app under test may be slower
USER_AGENT = "TwilioProxy/1.1"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Transport(Protocol):
    """Sends one request; `url` is absolute (the public URL Twilio would use)."""

    def request(
        self, method: str, url: str, data: dict | None = None, headers: dict | None = None
    ) -> Reply: ...


class HttpTransport:
    """Real HTTP to a running app (requests), mapping public URLs onto `base_url`."""

    def __init__(self, base_url: str, public_base_url: str | None = None):
        import requests

        self.base_url = base_url.rstrip("/")
        self.public_base_url = (public_base_url or base_url).rstrip("/")
        self._http = requests.Session()
        self._http.headers["User-Agent"] = USER_AGENT

    def _target(self, url: str) -> str:
        if url.startswith(self.public_base_url):
            return self.base_url + url[len(self.public_base_url) :]
        return url

    def request(self, method, url, data=None, headers=None) -> Reply:
        resp = self._http.request(
            method,
            self._target(url),
            data=data,
            headers=headers,
            timeout=HTTP_TIMEOUT,
            allow_redirects=False,
        )
        return Reply(resp.status_code, resp.content, resp.headers.get("Content-Type", ""))

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FlaskTransport:
    """A Flask test client; URLs outside the app's public base go over real HTTP, unless
    `outside=False` (the studio's web phone: a URL in a draft may name any internal
    host, so it is answered 403 here and never fetched)."""

    def __init__(self, client, public_base_url: str, *, outside: bool = True):
        self.client = client
        self.public_base_url = public_base_url.rstrip("/")
        self.outside = outside
        self._outside: HttpTransport | None = None

    def request(self, method, url, data=None, headers=None) -> Reply:
        if url != self.public_base_url and not url.startswith(self.public_base_url + "/"):
            if not self.outside:
                return Reply(403, b"", "")
            if self._outside is None:
                self._outside = HttpTransport(url)
            return self._outside.request(method, url, data=data, headers=headers)
        parts = urlsplit(url)
        base = urlsplit(self.public_base_url)
        resp = self.client.open(
            parts.path,
            method=method,
            data=data,
            query_string=parts.query,
            headers=headers or {},
            base_url=f"{base.scheme}://{base.netloc}",
        )
        try:
            return Reply(resp.status_code, resp.get_data(), resp.content_type or "")
        finally:
            resp.close()

    def close(self) -> None:
        if self._outside is not None:
            self._outside.close()
