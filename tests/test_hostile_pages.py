"""Hostile input on the pages and the API: authorisation on every route, injection, traversal.

The route sweep enumerates `app.url_map`, so a route added later is covered (or
this test names it). Injection goes in through the real API and comes out on
the supervisor pages escaped; path traversal and foreign recording URLs never
reach a file or a host outside the allowed ones.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from accounts_support import csrf_token, login
from conftest import TEST_API_TOKEN
from markupsafe import escape
from pages_support import populate
from speech_support import korean_model
from sqlalchemy import func, select

from accounts import service as accounts
from core import limits
from core.db import get_db
from core.privacy import mask_number
from speech import jobs
from speech.worker import Worker
from studio import views as studio_views
from tickets.models import Ticket

API = {"Authorization": f"Bearer {TEST_API_TOKEN}"}
# Routes anyone may reach, and why.
PUBLIC = {
    "static",  # CSS/JS
    "agents_pages.static",  # the desk's and wallboard's scripts
    "health.healthz",  # load balancer probe (says ok/failing, nothing private)
    "accounts.login",  # the login form
    "tickets_api.openapi_document",  # the API's published description
    "speech_audio.audio",  # Twilio fetches synthesized prompts without credentials
}
# Routes authenticated by Twilio's signature (403) or Twilio's basic auth (401).
SIGNED = ("ivr.", "ivr_try.", "callbacks_voice.", "agents_legs.")
BASIC_AUTH = ("simulator_recordings.",)
INJECTIONS = [
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE tickets; --",
    "' OR '1'='1",
    "{{ config.SECRET_KEY }}",
    "javascript:alert(1)",
]


@pytest.fixture
def site(make_app):
    app = make_app()
    return app, populate(app)


def client_as(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _paths(app, numbers):
    for rule in app.url_map.iter_rules():
        values = {
            arg: numbers["heat"]
            if arg == "number"
            else "heating-season"
            if arg == "key"
            else "x.wav"
            if arg == "name"
            else "static.css"
            if arg == "filename"
            else app.config["TWILIO_ACCOUNT_SID"]
            if arg == "account"
            else "rules"
            if arg == "kind"
            else 1
            for arg in rule.arguments
        }
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def test_every_route_refuses_anonymous_callers(site):
    app, numbers = site
    client = app.test_client()
    token = csrf_token(client)
    seen = set()
    for endpoint, method, path in _paths(app, numbers):
        seen.add(endpoint)
        r = client.open(path, method=method, data={"csrf_token": token})
        if endpoint in PUBLIC or endpoint == "accounts.logout":
            assert r.status_code < 500, (endpoint, r.status_code)
            token = csrf_token(client)  # logging out starts a new session (and CSRF token)
        elif endpoint.startswith(SIGNED):
            assert r.status_code == 403, (endpoint, method, r.status_code)
        elif endpoint.startswith(BASIC_AUTH) or path.startswith(("/api/", "/metrics")):
            assert r.status_code == 401, (endpoint, method, r.status_code)
        else:
            assert r.status_code == 302, (endpoint, method, r.status_code)
            assert r.headers["Location"].startswith("/login"), endpoint
    assert {"studio.publish", "tickets_api.create_ticket", "ivr.voice"} <= seen


def test_agent_cannot_publish_flows_or_use_the_studio(site):
    app, numbers = site
    flows = Path(app.config["FLOWS_PATH"]).read_bytes()
    client = client_as(app, "agent1")
    token = csrf_token(client, "/account")
    for endpoint, method, path in _paths(app, numbers):
        if not endpoint.startswith("studio."):
            continue
        r = client.open(path, method=method, data={"csrf_token": token, "source": "flow: {}"})
        assert r.status_code == 403, (endpoint, method, r.status_code)
    assert Path(app.config["FLOWS_PATH"]).read_bytes() == flows


def test_department_sees_only_its_tickets_on_pages_and_api(site):
    app, numbers = site
    client = client_as(app, "housing1")
    assert client.get(f"/tickets/{numbers['heat']}").status_code == 200  # routed to housing
    for other in ("noise", "fund", "xss"):
        r = client.get(f"/tickets/{numbers[other]}")
        assert r.status_code == 404, other  # not theirs: as if it did not exist
        # Recordings are refused to the role here (DEPARTMENT_RECORDINGS off), whoever's.
        assert client.get(f"/tickets/{numbers[other]}/recording").status_code == 403
    listing = client.get("/tickets/?q=").get_data(as_text=True)
    assert numbers["noise"] not in listing
    with app.app_context(), get_db(app).session() as s:
        token = accounts.issue_token(accounts.get_user(s, "housing1"))
    auth = {"Authorization": f"Bearer {token}"}
    anon = app.test_client()
    assert anon.get(f"/api/tickets/{numbers['heat']}", headers=auth).status_code == 200
    assert anon.get(f"/api/tickets/{numbers['noise']}", headers=auth).status_code == 404
    listed = anon.get("/api/tickets?per_page=100", headers=auth).json
    items = listed.get("items", listed.get("tickets", []))
    assert items and all(t["number"] != numbers["noise"] for t in items)
    csv = anon.get("/api/tickets.csv", headers=auth).get_data(as_text=True)
    assert numbers["noise"] not in csv


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_in_ticket_text_is_stored_verbatim_and_shown_escaped(site, payload):
    app, _ = site
    api = app.test_client()
    with app.app_context(), get_db(app).session() as s:
        before = s.scalar(select(func.count()).select_from(Ticket))
    r = api.post(
        "/api/tickets",
        headers=API,
        json={"channel": "web", "description": payload, "caller_number": "13812345678"},
    )
    assert r.status_code == 201, r.json
    number = r.json["number"]
    assert api.get(f"/api/tickets/{number}", headers=API).json["description"] == payload
    with app.app_context(), get_db(app).session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == before + 1
    boss = client_as(app, "boss")
    for page in (
        f"/tickets/{number}",
        "/tickets/",
        f"/tickets/?q={payload}",
        "/dashboard/",
        f"/kb/?q={payload}",
        "/inbox/",
    ):
        html = boss.get(page).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, page
        assert app.config["SECRET_KEY"] not in html
    html = boss.get(f"/tickets/{number}").get_data(as_text=True)
    assert str(escape(payload)) in html  # shown whole, as text
    found = api.get("/api/tickets", headers=API, query_string={"q": payload}).status_code
    assert found == 200


def test_audio_route_serves_no_file_outside_the_cache(site):
    app, _ = site
    client = app.test_client()
    secret = Path(app.config["AUDIO_DIR"]).parent / "secret.wav"
    secret.write_bytes(b"RIFF secret")
    for name in (
        "../secret.wav",
        "..%2Fsecret.wav",
        "%2e%2e%2fsecret.wav",
        "..\\secret.wav",
        "/etc/passwd",
        "....//secret.wav",
        "x" * 5000 + ".wav",
        "%00.wav",
    ):
        r = client.get(f"/audio/{name}")
        assert r.status_code == 404, name
        assert b"secret" not in r.data


def test_recording_path_outside_the_recordings_dir_is_never_served(site):
    app, numbers = site
    outside = Path(app.config["RECORDINGS_DIR"]).parent / "outside.wav"
    outside.write_bytes(b"RIFF private")
    for path in ("../outside.wav", str(outside), "calls/../../outside.wav"):
        with app.app_context(), get_db(app).session() as s:
            s.scalar(select(Ticket).where(Ticket.number == numbers["heat"])).recording_path = path
        r = client_as(app, "boss").get(f"/tickets/{numbers['heat']}/recording")
        assert r.status_code == 404, path
        assert b"private" not in r.data


class _Trap(BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "audio/x-wav")
        self.end_headers()
        self.wfile.write(b"RIFF")

    def log_message(self, *args):
        pass


def test_recording_urls_to_other_hosts_are_never_fetched(make_app):
    """The ticket page's player and the transcription worker both refuse foreign URLs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    trap = f"http://127.0.0.1:{server.server_port}"
    try:
        app = make_app(TWILIO_API_BASE="http://127.0.0.1:9")  # the only allowed host
        numbers = populate(app)
        urls = [
            f"{trap}/2010-04-01/Accounts/AC/Recordings/RE1",
            f"http://127.0.0.1:9@127.0.0.1:{server.server_port}/r",
            f"http://127.0.0.1:9/../{trap}/r",
            f"http://127.0.0.1:9.{server.server_port}/r",
            "file:///etc/passwd",
        ]
        boss = client_as(app, "boss")
        for url in urls:
            with app.app_context(), get_db(app).session() as s:
                t = s.scalar(select(Ticket).where(Ticket.number == numbers["vm"]))
                t.recording_url, t.recording_path = url, None
            assert boss.get(f"/tickets/{numbers['vm']}/recording").status_code == 404, url
            with app.app_context(), get_db(app).session() as s:
                jobs.enqueue_transcription(s, ticket_id=t.id, recording_url=url, recording_sid=None)
        with app.app_context():
            worker = Worker(get_db(app), app.config, korean_model())
            outcomes = [worker.run_once() for _ in urls]
        assert all(o.status == "failed" for o in outcomes), outcomes
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert _Trap.hits == []


def test_oversized_uploads_are_refused(site):
    app, _ = site
    client = app.test_client()
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    r = client.post("/api/tickets", headers={**API, "Content-Type": "application/json"}, data=big)
    assert r.status_code == 413
    sid = app.config["TWILIO_ACCOUNT_SID"]
    r = client.put(
        f"/simulator/twilio/2010-04-01/Accounts/{sid}/Recordings/RE{'0' * 32}",
        data=b"RIFF" + b"\0" * (17 * 1024 * 1024),
        auth=(sid, app.config["TWILIO_AUTH_TOKEN"]),
    )
    assert r.status_code == 413
    boss = client_as(app, "boss")
    token = csrf_token(boss, "/account")
    # The editor's field is `text`: a flow one byte over the studio's limit, as JSON.
    text = "#" * (studio_views.MAX_FLOW_BYTES + 1)
    r = boss.post("/studio/validate", json={"text": text}, headers={"X-CSRFToken": token})
    assert r.status_code == 413
    r = boss.post("/studio/validate", json={"text": "flow: {}"}, headers={"X-CSRFToken": token})
    assert r.status_code == 200 and r.json["ok"] is False  # the same route answers small ones


def test_every_form_and_json_route_refuses_bodies_over_its_limit(site):
    """Pages and the API: past 1 MiB (or 1,000 form fields) a body is 413 before any parsing,
    CSRF check or login lookup; uploads (recordings, DNC lists, web-phone audio) allow more."""
    app, numbers = site
    boss = client_as(app, "boss")
    token = csrf_token(boss, "/account")
    big = "x" * (limits.FORM.max_bytes + 1)
    for path in ("/tickets/new", f"/tickets/{numbers['heat']}/classify", "/login", "/account"):
        r = boss.post(path, data={"csrf_token": token, "description": big})
        assert r.status_code == 413, path
        fields = "&".join(f"f{i}=" for i in range(limits.FORM.max_fields)) + f"&csrf_token={token}"
        r = boss.post(path, data=fields, content_type="application/x-www-form-urlencoded")
        assert r.status_code == 413, path
    r = app.test_client().post("/api/tickets", headers=API, json={"description": big})
    assert r.status_code == 413
    upload = b"13812345678" + b"\n" * 1_200_000  # 1.2 MB: over FORM, within UPLOAD
    body = (
        (
            f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--b\r\nContent-Disposition: form-data; name="file"; filename="dnc.csv"\r\n\r\n'
        ).encode()
        + upload
        + b"\r\n--b--\r\n"
    )
    r = boss.post(
        "/callbacks/dnc/import", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert r.status_code == 302


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
def test_deeply_nested_json_is_400_not_500(site, depth):
    app, _ = site
    client = app.test_client()
    body = '{"channel": "web", "description": ' + "[" * depth + "]" * depth + "}"
    r = client.post("/api/tickets", headers={**API, "Content-Type": "application/json"}, data=body)
    assert r.status_code == 400, r.status_code


def test_department_never_sees_a_full_caller_number_through_the_api(site):
    """One policy for pages, API and CSV: supervisors, agents and the service token see the
    number; a department (token or browser session) sees it masked, like on its pages."""
    app, numbers = site
    heat = numbers["heat"]
    with app.app_context(), get_db(app).session() as s:
        tokens = {u: accounts.issue_token(accounts.get_user(s, u)) for u in ("housing1", "boss")}
    anon = app.test_client()

    def seen(headers=None, client=anon):
        one = client.get(f"/api/tickets/{heat}", headers=headers).json["caller_number"]
        listed = client.get("/api/tickets?per_page=100", headers=headers).json["items"]
        csv = client.get("/api/tickets.csv", headers=headers).get_data(as_text=True)
        page = client.get(f"/tickets/{heat}").get_data(as_text=True) if client is not anon else ""
        return one, {t["caller_number"] for t in listed if t["number"] == heat}, csv, page

    full, masked = "+8613812345678", mask_number("+8613812345678")
    one, listed, csv, page = seen({"Authorization": f"Bearer {tokens['housing1']}"})
    assert one == masked and listed == {masked}
    assert "13812345678" not in csv
    one, listed, csv, page = seen(client=client_as(app, "housing1"))  # the browser session
    assert one == masked and listed == {masked}
    assert "13812345678" not in csv and "13812345678" not in page and masked in page
    for headers in ({"Authorization": f"Bearer {tokens['boss']}"}, API):
        one, listed, _, _ = seen(headers)
        assert one == full and listed == {full}


def test_logout_revokes_the_session_on_the_server(site):
    """A cookie copied before /logout is worthless after it."""
    app, _ = site
    client = client_as(app, "boss")
    assert client.get("/studio/").status_code == 200
    cookie = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/studio/").status_code == 200  # a copied cookie works while logged in
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    thief.set_cookie("session", cookie)
    r = thief.get("/studio/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert thief.get("/api/tickets").status_code == 401
    again = client_as(app, "boss")  # logging in again works
    assert again.get("/studio/").status_code == 200


class _CountingTrap:
    """A TCP listener that counts every connection made to it (HTTP, TLS or anything)."""

    def __init__(self):
        import socket

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: audio/x-wav\r\n\r\nRIFF internal")
            conn.close()

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


def _with_greeting_audio(url: str) -> str:
    text = (Path(__file__).resolve().parents[1] / "flows.yaml").read_text(encoding="utf-8")
    start = text.index("\n  greeting:")
    say = text.index("say:", start)
    return text[:say] + f'audio: "{url}"' + text[text.index("\n", say) :]


def test_web_phone_fetches_no_audio_a_supervisor_names(site):
    """A draft whose prompt audio points inside the network: the flow check refuses plain
    http, other schemes and https origins not in PROMPT_AUDIO_ORIGINS; and the web phone,
    which tries drafts as they are, fetches none of them (only the sandbox's own files)."""
    app, _ = site
    trap = _CountingTrap()
    try:
        boss = client_as(app, "boss")
        boss.get("/studio/")
        csrf = {"X-CSRFToken": csrf_token(boss, "/studio/")}
        for url in (
            f"http://127.0.0.1:{trap.port}/internal",
            "file:///etc/passwd",
            f"https://user@127.0.0.1:{trap.port}/x.wav",
            f"https://127.0.0.1:{trap.port}/internal.wav",  # https, but not a listed origin
        ):
            data = boss.post(
                "/studio/validate", json={"text": _with_greeting_audio(url)}, headers=csrf
            ).get_json()
            assert data["ok"] is False, url
            assert "nodes.greeting.audio" in data["issues"][0]["text"], data["issues"]
        draft = _with_greeting_audio(f"https://127.0.0.1:{trap.port}/internal.wav")
        view = boss.post("/studio/phone", json={"mode": "draft", "text": draft}, headers=csrf)
        assert view.status_code == 200, view.get_data(as_text=True)
        view = view.get_json()
        plays = [i for i, e in enumerate(view["events"]) if e["kind"] == "play"]
        assert plays, view["events"]
        r = boss.get(f"/studio/phone/{view['id']}/audio/{plays[0]}")
        assert r.status_code == 404 and b"internal" not in r.data
    finally:
        trap.close()
        from studio import sandbox

        sandbox.dispose_all()
    assert trap.connections == 0


def test_concurrent_requests_with_one_idempotency_key_make_one_ticket(site):
    """Eight at once: one 201 (it made the ticket), seven 200 with that same ticket."""
    app, _ = site
    body = {"channel": "web", "description": "路灯坏了", "idempotency_key": "retry-race-1"}
    barrier = threading.Barrier(8)
    answers = []

    def post():
        client = app.test_client()
        barrier.wait()
        r = client.post("/api/tickets", headers=API, json=body)
        answers.append((r.status_code, r.json["number"]))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(code for code, _ in answers) == [200] * 7 + [201]
    assert len({number for _, number in answers}) == 1


def test_public_healthz_says_status_words_only(site):
    """A load balancer needs ok/degraded; paths, versions and errors are for the operators."""
    app, _ = site
    public = app.test_client().get("/healthz")
    assert set(public.json) == {"status", "checks"}
    assert all(set(check) == {"ok"} for check in public.json["checks"].values()), public.json
    text = public.get_data(as_text=True)
    for private in (app.config["FLOWS_PATH"], app.config["AUDIO_DIR"], "/", "sqlite"):
        assert private not in text, private
    full = app.test_client().get("/healthz", headers=API).json
    assert any(len(check) > 1 for check in full["checks"].values())
    boss = client_as(app, "boss")
    assert boss.get("/healthz").json == full
    agent = client_as(app, "agent1")
    assert agent.get("/healthz").json["checks"] == public.json["checks"]
