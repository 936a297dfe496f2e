"""Configuration from environment variables, with documented defaults, checked once at start.

Every setting the service reads lives in SETTINGS; README's table is generated
from the same list (`flask config show`), so the two cannot drift apart. KINDS
says what each value may be (core.kinds): `load_config` and `create_app` check
every setting and refuse to start with one line per bad value (SettingsError,
exit status 2). Numbers are kept converted in the app config; windows,
durations and lists are read with `value(config, NAME)`, which parses them with
the same kind and takes the default from SETTINGS, never from the caller.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from core import kinds

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        f"sqlite:///{ROOT / 'var' / 'hotline.db'}",
        "SQLAlchemy URL; SQLite (WAL) by default, e.g. postgresql+psycopg://user@host/db",
    ),
    Setting(
        "PUBLIC_BASE_URL",
        None,
        "URL Twilio uses to reach us; webhook signatures are checked against it "
        "(default: http://HOST:PORT, 127.0.0.1 when HOST listens on every address)",
    ),
    Setting(
        "TWILIO_ACCOUNT_SID",
        "AC00000000000000000000000000000000",
        "Twilio account SID; the default is the local simulator's",
    ),
    Setting(
        "TWILIO_AUTH_TOKEN",
        None,
        "Twilio auth token (signs webhooks); default: a random token kept in var/",
        True,
    ),
    Setting("TWILIO_CALLER_ID", "+8605460000000", "Caller ID for outgoing calls"),
    Setting(
        "TWILIO_API_BASE",
        "https://api.twilio.com",
        "Base of Twilio's REST API; every REST call and recording download goes here "
        "(simulator mode: PUBLIC_BASE_URL/simulator/twilio, the simulator's stand-in)",
    ),
    Setting(
        "TELEPHONY",
        None,
        "'twilio' or 'simulator'; default: simulator unless TWILIO_AUTH_TOKEN is set",
    ),
    Setting(
        "OPERATOR_NUMBER",
        "+8605468888888",
        "Number or SIP URI dialled when the flow cannot continue (apology + transfer)",
    ),
    Setting(
        "DIAL_ALLOWED",
        "+86",
        "Where a flow's dial: may transfer callers: comma-separated E.164 prefixes and SIP "
        "domains, e.g. +86,sip:pbx.example.gov.cn (OPERATOR_NUMBER is always allowed)",
    ),
    Setting(
        "PROMPT_AUDIO_ORIGINS",
        None,
        "https origins a flow's audio: may name, comma-separated (default: none, only "
        "/audio/ files of ours)",
    ),
    Setting("FLOWS_PATH", str(ROOT / "flows.yaml"), "The flow definition supervisors edit"),
    Setting(
        "VOSK_MODEL_PATH",
        str(ROOT / "models" / "vosk-model-small-cn-0.22"),
        "Directory of the Vosk model used for transcription",
    ),
    Setting(
        "VOSK_MODEL_SHA256",
        None,
        "Expected SHA-256 of the model zip `flask speech download-model` fetches "
        "(default: the pinned checksum of the known models)",
    ),
    Setting(
        "SPEECH_GRAMMAR_MIN_CONFIDENCE",
        "0.6",
        "Spoken menu answers below this confidence count as an invalid try",
    ),
    Setting(
        "TTS_VOICE",
        "cmn-latn-pinyin",
        "espeak-ng voice of Mandarin prompts; they are spoken as tone-numbered pinyin "
        "(a `+variant` such as `+f2` is kept)",
    ),
    Setting("TTS_RATE", "165", "Speaking rate of synthesized prompts (words per minute)"),
    Setting(
        "SPEECH_LEXICON",
        str(ROOT / "speech" / "lexicon.yaml"),
        "Pronunciation lexicon (word: pinyin) that overrides the pinyin library",
    ),
    Setting("AUDIO_DIR", str(ROOT / "var" / "audio"), "Cache of synthesized prompts"),
    Setting("RECORDINGS_DIR", str(ROOT / "var" / "recordings"), "Downloaded call recordings"),
    Setting("HOTLINE_TIMEZONE", "Asia/Shanghai", "Time zone of opening hours and calling windows"),
    Setting("HOTLINE_API_TOKEN", None, "Bearer token for /api/ (service-to-service)", True),
    Setting("SECRET_KEY", None, "Flask session key; default: a random key kept in var/", True),
    Setting("HOST", "127.0.0.1", "Bind address of the web server"),
    Setting("PORT", "8000", "Port of the web server"),
    Setting("WEB_WORKERS", "2", "gunicorn worker processes"),
    Setting("LOG_LEVEL", "INFO", "Python logging level"),
    Setting(
        "CALLBACK_DELAY",
        "next-working-day",
        "Delay before a satisfaction callback: 'next-working-day' or an ISO-8601 duration",
    ),
    Setting("CALLING_WINDOW", "09:00-20:00", "Local hours in which outgoing calls are placed"),
    Setting("CALLBACK_MAX_ATTEMPTS", "3", "Attempts per callback"),
    Setting("CALLBACK_CPS", "1", "Outgoing calls per second (Twilio's default is 1)"),
    Setting("CALLBACK_MAX_CONCURRENT", "10", "Outgoing calls in progress at once"),
    Setting(
        "CALLING_DAYS",
        "workdays",
        "'workdays' (no calls on public holidays or weekends; 调休 workdays count) or 'all'",
    ),
    Setting(
        "CALLBACK_RETRY_SPACING",
        "PT30M,PT2H,next-working-day",
        "Wait before attempt 2, 3, 4...: ISO-8601 durations or 'next-working-day'",
    ),
    Setting(
        "CALLBACK_LEASE_SECONDS",
        "30",
        "Scheduler lease; a standby scheduler takes over this long after the active one dies",
    ),
    Setting(
        "RETURN_CALL_WITHIN",
        "PT4H",
        "Return calls to callers who hung up in the queue are placed within this time",
    ),
    Setting(
        "AGENT_RING_SECONDS",
        "20",
        "An agent's phone rings this long before the caller is offered to the next agent "
        "(and the agent is put on break, 'not responding')",
    ),
    Setting("AGENT_WRAP_UP_SECONDS", "30", "After-call work time before an agent is offered again"),
    Setting(
        "SIMULATED_AGENTS",
        "3",
        "Simulator mode only: this many simulated agents (sim-agent-1…) answer queued callers "
        "(`flask agents run`); 0 for none",
    ),
    Setting(
        "SIMULATED_HANDLE_SECONDS",
        "180",
        "Simulator mode: how long a simulated agent talks with a caller (seconds)",
    ),
    Setting(
        "SIMULATOR_CALLEE",
        "answer:1",
        "How the simulated citizen answers outgoing calls: answer:DIGITS, silent, "
        "no-answer, busy, failed or machine",
    ),
    Setting(
        "TICKET_DUE_DAYS",
        "consultation=3,complaint=13,suggestion=10,other=10",
        "Working days to answer a ticket, per demand type",
    ),
    Setting(
        "DEPARTMENT_RECORDINGS",
        "no",
        "'yes' lets department users play the recordings of their own voice tickets "
        "(every play is audited); default: supervisors and agents only",
    ),
    Setting(
        "RETENTION_DAYS",
        "180",
        "Days recordings and transcripts are kept before the purge job deletes them",
    ),
    Setting(
        "PLANNING_AHT_SECONDS",
        "240",
        "Handle time per call for staffing when the records have none (s)",
    ),
    Setting("PLANNING_ANSWER_WITHIN", "15", "Staffing target: answer within this many seconds"),
    Setting("PLANNING_SERVICE_LEVEL", "0.8", "Staffing target: share answered within that time"),
    Setting(
        "PLANNING_SHRINKAGE", "0.3", "Share of rostered time not on the phones (breaks, training)"
    ),
    Setting("PLANNING_MAX_OCCUPANCY", "0.85", "Highest share of time an agent may spend on calls"),
    Setting("PLANNING_SHIFT_HOURS", "8", "Length of one shift (hours)"),
    Setting(
        "PLANNING_SHIFT_STARTS",
        "00:00,06:00,07:00,08:00,09:00,10:00,12:00,14:00,16:00,18:00",
        "Times a shift may start (HH:MM, comma-separated)",
    ),
    Setting("SURGE_WINDOW_HOURS", "24", "Rolling window of the surge detector (hours)"),
    Setting("SURGE_MIN_COUNT", "5", "Fewest tickets in a window that can be a surge"),
    Setting("SURGE_RATIO", "3", "A window this many times its baseline is a surge"),
    Setting(
        "SESSION_IDLE_MINUTES", "30", "Supervisor-page sessions end after this much inactivity"
    ),
    Setting(
        "SESSION_MAX_HOURS",
        "12",
        "Supervisor-page sessions end this long after login, active or not",
    ),
    Setting(
        "LOGIN_MAX_FAILURES",
        "5",
        "Failed logins (per username, and x4 per address) before a temporary lockout",
    ),
    Setting("LOGIN_LOCKOUT_MINUTES", "15", "Length of the lockout after too many failed logins"),
    Setting(
        "TRUSTED_PROXIES",
        "0",
        "Reverse proxies in front of the app (nginx: 1) whose X-Forwarded-For names the "
        "client, for per-address login limits",
    ),
)

_NUMBER = r"\+[1-9]\d{5,14}"
_PHONE = kinds.Pattern(_NUMBER, "an E.164 number such as +8605468888888")
_SECONDS = kinds.Integer(1, 86400)
_COUNT = kinds.Integer(1, 100_000)
_SHARE = kinds.Number(0, 1, low_open=True)

# What each setting may be; a setting not listed here is free text.
KINDS: dict[str, kinds.Kind] = {
    "DATABASE_URL": kinds.DatabaseUrl(),
    "PUBLIC_BASE_URL": kinds.Url(),
    "TWILIO_ACCOUNT_SID": kinds.Pattern(r"AC[0-9a-fA-F]{32}", "AC followed by 32 hex digits"),
    "TWILIO_CALLER_ID": _PHONE,
    "TWILIO_API_BASE": kinds.Url(),
    "TELEPHONY": kinds.Choice("twilio", "simulator"),
    "OPERATOR_NUMBER": kinds.Pattern(
        rf"{_NUMBER}|sip:[^@\s]+@[^@\s]+", "an E.164 number or a sip:user@host URI"
    ),
    "DIAL_ALLOWED": kinds.Pattern(
        r"(\+\d{1,15}|sip:[A-Za-z0-9.-]+)(\s*,\s*(\+\d{1,15}|sip:[A-Za-z0-9.-]+))*",
        "comma-separated E.164 prefixes and SIP domains, e.g. +86,sip:pbx.example.gov.cn",
    ),
    "PROMPT_AUDIO_ORIGINS": kinds.Pattern(
        r"https://[A-Za-z0-9.-]+(:\d+)?/?(\s*,\s*https://[A-Za-z0-9.-]+(:\d+)?/?)*",
        "comma-separated https origins, e.g. https://cdn.example.gov.cn",
    ),
    "VOSK_MODEL_SHA256": kinds.Pattern(r"[0-9a-fA-F]{64}", "64 hex digits (a SHA-256)"),
    "SPEECH_GRAMMAR_MIN_CONFIDENCE": kinds.Number(0, 1),
    "TTS_RATE": kinds.Integer(60, 500),
    "HOTLINE_TIMEZONE": kinds.TimeZone(),
    "PORT": kinds.Integer(1, 65535),
    "WEB_WORKERS": kinds.Integer(1, 64),
    "LOG_LEVEL": kinds.Choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", upper=True),
    "CALLBACK_DELAY": kinds.Delay(),
    "CALLING_WINDOW": kinds.Window(),
    "CALLBACK_MAX_ATTEMPTS": kinds.Integer(1, 10),
    "CALLBACK_CPS": kinds.Number(0, 100, low_open=True),
    "CALLBACK_MAX_CONCURRENT": kinds.Integer(1, 1000),
    "CALLING_DAYS": kinds.Choice("workdays", "all"),
    "CALLBACK_RETRY_SPACING": kinds.DelayList(),
    "CALLBACK_LEASE_SECONDS": kinds.Number(1, 3600),
    "RETURN_CALL_WITHIN": kinds.Duration(),
    "AGENT_RING_SECONDS": kinds.Integer(5, 120),
    "AGENT_WRAP_UP_SECONDS": kinds.Integer(0, 3600),
    "SIMULATED_AGENTS": kinds.Integer(0, 500),
    "SIMULATED_HANDLE_SECONDS": kinds.Number(0, 86400, low_open=True),
    "SIMULATOR_CALLEE": kinds.Pattern(
        r"answer:\d*|say:\S.*|agent:(\d+(\.\d+)?)?|silent|machine|no-answer|busy|failed",
        "answer:DIGITS, say:WORD, agent:SECONDS, silent, machine, no-answer, busy or failed",
    ),
    "TICKET_DUE_DAYS": kinds.DaysPerType(),
    "DEPARTMENT_RECORDINGS": kinds.Flag(),
    "RETENTION_DAYS": kinds.Integer(1, 3650),
    "PLANNING_AHT_SECONDS": _SECONDS,
    "PLANNING_ANSWER_WITHIN": _SECONDS,
    "PLANNING_SERVICE_LEVEL": _SHARE,
    "PLANNING_SHRINKAGE": kinds.Number(0, 0.95),
    "PLANNING_MAX_OCCUPANCY": _SHARE,
    "PLANNING_SHIFT_HOURS": kinds.Number(0, 24, low_open=True),
    "PLANNING_SHIFT_STARTS": kinds.Clocks(),
    "SURGE_WINDOW_HOURS": kinds.Integer(1, 24 * 31),
    "SURGE_MIN_COUNT": _COUNT,
    "SURGE_RATIO": kinds.Number(1, low_open=True),
    "SESSION_IDLE_MINUTES": kinds.Integer(1, 24 * 60),
    "SESSION_MAX_HOURS": kinds.Integer(1, 24 * 31),
    "LOGIN_MAX_FAILURES": _COUNT,
    "LOGIN_LOCKOUT_MINUTES": kinds.Integer(1, 24 * 60),
    "TRUSTED_PROXIES": kinds.Integer(0, 10),
}
TEXT = kinds.Kind()

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def _persistent_secret(var_dir: Path, name: str) -> str:
    """A random secret created once and kept in var/ so restarts and workers agree."""
    path = var_dir / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        var_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        # O_EXCL: two workers starting together must end up with one value.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return value


class SettingsError(click.ClickException):
    """Settings that cannot be used; the message has one line per bad setting."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "the service cannot start with these settings (one per line):\n"
            + "\n".join(f"  {p}" for p in problems)
        )


def kind_of(name: str) -> kinds.Kind:
    return KINDS.get(name, TEXT)


def _shown(name: str, raw) -> str:
    setting = SETTINGS_BY_NAME.get(name)
    return "(secret)" if setting is not None and setting.secret else repr(raw)


def check(config: Mapping[str, object]) -> dict[str, object]:
    """Every setting present in `config`, checked; numbers converted. SettingsError if any is bad."""
    checked: dict[str, object] = {}
    problems = []
    for setting in SETTINGS:
        raw = config.get(setting.name)
        if raw is None:
            continue
        kind = kind_of(setting.name)
        try:
            parsed = kind.parse(raw)
        except (ValueError, TypeError):
            problems.append(f"{setting.name}={_shown(setting.name, raw)}: expected {kind.expects}")
            continue
        keep_text = not kind.typed and isinstance(raw, str)
        checked[setting.name] = raw.strip() if keep_text else parsed
    if problems:
        raise SettingsError(problems)
    return checked


def value(config: Mapping[str, object], name: str):
    """A setting's parsed value from an app config (or a partial mapping); default from SETTINGS."""
    raw = config.get(name)
    if raw is None:
        raw = SETTINGS_BY_NAME[name].default
    if raw is None:
        return None
    kind = kind_of(name)
    try:
        return kind.parse(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}={_shown(name, raw)}: expected {kind.expects}") from exc


def _public_base_url(env: Mapping[str, str], host: str, port: int) -> str:
    """PUBLIC_BASE_URL, or the address the web server listens on (HOST:PORT)."""
    given = env.get("PUBLIC_BASE_URL")
    if given:
        return given
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Read and check every setting from the environment, applying defaults."""
    env = os.environ if environ is None else environ
    raw = {s.name: env.get(s.name, s.default) for s in SETTINGS}
    # Check first: a derived value (the public URL from HOST:PORT) needs good parts.
    cfg: dict[str, object] = {**raw, **check(raw)}
    var_dir = ROOT / "var"
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = _persistent_secret(var_dir, "secret-key")
    if not cfg["TELEPHONY"]:
        cfg["TELEPHONY"] = "twilio" if cfg["TWILIO_AUTH_TOKEN"] else "simulator"
    if not cfg["TWILIO_AUTH_TOKEN"]:
        cfg["TWILIO_AUTH_TOKEN"] = _persistent_secret(var_dir, "simulator-auth-token")
    cfg["PUBLIC_BASE_URL"] = _public_base_url(env, str(cfg["HOST"]), int(cfg["PORT"]))
    if cfg["TELEPHONY"] == "simulator" and not env.get("TWILIO_API_BASE"):
        # The simulator serves its recordings itself; downloads must stay under this base.
        cfg["TWILIO_API_BASE"] = f"{cfg['PUBLIC_BASE_URL']}/simulator/twilio"
    cfg.update(check(cfg))
    return cfg


def main() -> None:
    """`python -m core.config`: check the environment's settings; exit 2 with one line each."""
    try:
        load_config()
    except SettingsError as exc:
        exc.show(sys.stderr)
        sys.exit(exc.exit_code)
    print("settings: ok")


if __name__ == "__main__":
    main()
