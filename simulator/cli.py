"""`flask ivr call`: call the running app from the terminal, as a citizen would."""

from __future__ import annotations

from urllib.parse import urlencode

import click
from flask import current_app
from flask.cli import AppGroup

from accounts.csrf import csrf
from core.privacy import mask_number
from ivr.flows.placeholders import CALL_VARIABLES
from ivr.flows.schema import ENTRY_NAMES
from simulator.phone import Phone
from simulator.prompts import PromptIndex
from simulator.recordings import AppRecordings
from simulator.script import ScriptedCaller, ScriptError, parse_script
from simulator.terminal import Speaker, TerminalCaller, show_new
from simulator.transport import HttpTransport

ivr_cli = AppGroup("ivr", help="Call simulator.")

VOICE_PATH = "/ivr/voice"
TRY_PATH = "/ivr/try"  # an outgoing call's entry, in simulator mode
STATUS_PATH = "/ivr/status"
DEFAULT_CALLER = "+8613800138000"
HOTLINE_NUMBER = "12345"


@ivr_cli.command("call")
@click.option("--url", help="Where the app listens (default: http://HOST:PORT).")
@click.option("--script", "script", help='Run non-interactively, e.g. "1,wait:6,say:供暖,hangup".')
@click.option("--play", is_flag=True, help="Play the prompts' audio (aplay or sox's play).")
@click.option(
    "--from", "from_", default=DEFAULT_CALLER, show_default=True, help="The caller's number."
)
@click.option("--to", default=HOTLINE_NUMBER, show_default=True, help="The number called.")
@click.option(
    "--language",
    default="zh-CN",
    show_default=True,
    help="Language of the caller's synthesized speech.",
)
@click.option("--verbose", "-v", is_flag=True, help="Show every webhook request too.")
@click.option(
    "--entry",
    type=click.Choice(ENTRY_NAMES),
    help="Be called instead: the flow's outgoing call (simulator mode), e.g. survey.",
)
@click.option(
    "--value",
    "values",
    multiple=True,
    metavar="NAME=TEXT",
    help="A value of the outgoing call, e.g. topic=供暖 (names: "
    + ", ".join(CALL_VARIABLES)
    + ").",
)
def call(url, script, play, from_, to, language, verbose, entry, values) -> None:
    """Place a call on the running app, exactly as Twilio would (or, with --entry, answer
    the app's outgoing call)."""
    cfg = current_app.config
    base = (url or f"http://{cfg['HOST']}:{cfg['PORT']}").rstrip("/")
    public = cfg["PUBLIC_BASE_URL"]
    try:
        caller = (
            ScriptedCaller(parse_script(script), language=language)
            if script is not None
            else TerminalCaller(language)
        )
    except ScriptError as exc:
        raise click.UsageError(str(exc)) from None
    filled = _values(values)
    with HttpTransport(base, public) as transport:
        kwargs = {
            "recordings": AppRecordings(
                transport, public, cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"]
            ),
            "prompt_text": PromptIndex.for_app(current_app, values=filled),
            "measure_audio": True,
            # Simulator mode: the agents waiting callers may be answered by (see agents).
            "switch": current_app.extensions.get("simulator.queue_switch"),
        }
        if entry:
            query = f"?{urlencode(filled)}" if filled else ""
            phone = Phone.outbound(
                transport,
                cfg["TWILIO_AUTH_TOKEN"],
                url=f"{public}{TRY_PATH}/{entry}{query}",
                from_=to,
                to=from_,
                account_sid=cfg["TWILIO_ACCOUNT_SID"],
                status_callback=public + STATUS_PATH,
                answered_by="human",
                **kwargs,
            )
            click.echo(f"{to} calls {mask_number(from_)} ({entry}) via {base}")
        else:
            phone = Phone.inbound(
                transport,
                cfg["TWILIO_AUTH_TOKEN"],
                voice_url=public + VOICE_PATH,
                from_=from_,
                to=to,
                account_sid=cfg["TWILIO_ACCOUNT_SID"],
                status_callback=public + STATUS_PATH,
                **kwargs,
            )
            click.echo(f"calling {to} from {mask_number(from_)} via {base}")
        if cfg.get("TELEPHONY") != "simulator":
            click.echo(
                "(TELEPHONY is not 'simulator': the app does not take simulated "
                "recordings, so spoken messages cannot be sent)",
                err=True,
            )
        speaker = Speaker(phone, language) if play else None
        shown = 0
        need = phone.start()
        shown = show_new(phone, shown, verbose, speaker)
        while need is not None:
            need = phone.resume(caller.answer(need, phone))
            shown = show_new(phone, shown, verbose, speaker)
    click.echo(
        f"call {phone.state['call_sid']} ended: {phone.state['status']}, "
        f"{phone.state['clock']:.0f} s"
    )
    if any(e["kind"] == "application-error" for e in phone.events):
        raise SystemExit(1)


def _values(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or name not in CALL_VARIABLES:
            raise click.BadParameter(
                f"{item!r}: expected NAME=TEXT with NAME one of {', '.join(CALL_VARIABLES)}",
                param_hint="--value",
            )
        out[name] = text
    return out


def init_app(app) -> None:
    app.cli.add_command(ivr_cli)
    if app.config.get("TELEPHONY") == "simulator":
        from simulator.recordings import bp

        csrf.exempt(bp)  # authenticated by HTTP basic auth (account SID, token), like Twilio
        app.register_blueprint(bp)
