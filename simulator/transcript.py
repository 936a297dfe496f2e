"""A call's events as the lines a person reads: what was heard, what the caller did."""

from __future__ import annotations

SHOWN = {
    "say": lambda e: f"🔊 {e['text']}",
    "play": lambda e: f"🔊 {e['text']}" if e.get("text") else f"🔊 [audio] {e['url']}",
    "pause": lambda e: f"… pause {e['seconds']:g} s",
    "beep": lambda e: "🔔 beep",
    "gather": lambda e: f"⌨ waiting for {e['input']} ({e['timeout']:g} s)",
    "keys": lambda e: f"☎ pressed {e['digits'] or '(nothing)'}",
    "speech": lambda e: f"🗣 said {e['text']}",
    "timeout": lambda e: f"⏱ no input ({e['seconds']:g} s)",
    "record": lambda e: f"⏺ recording (max {e['maxLength']:g} s)",
    "recorded": lambda e: f"⏺ sent {e['seconds']:g} s of audio"
    + (f" ({e['text']})" if e.get("text") else ""),
    "no-recording": lambda e: "⏺ nothing recorded",
    "redirect": lambda e: f"↪ redirect {e['url']}",
    "enqueue": lambda e: f"⏳ queued in {e['queue'] or '(queue)'}",
    "agent-answered": lambda e: f"👤 agent answered after {e['waited']} s",
    "queue-result": lambda e: f"⏳ left queue: {e['result']} after {e['seconds']} s",
    "leave-queue": lambda e: "⏳ flow took the caller out of the queue",
    "dial": lambda e: f"📞 dialling {e['number']}",
    "dial-result": lambda e: f"📞 {e['status']}",
    "hangup": lambda e: f"☎ hung up by {e['by']}",
    "reject": lambda e: f"☎ rejected ({e['reason']})",
    "not-answered": lambda e: f"☎ not answered: {e['status']}",
    "end-of-document": lambda e: "☎ end of TwiML: call ends",
    "application-error": lambda e: f"‼ application error: {e['detail']}",
    "http-error": lambda e: f"‼ {e['error']}",
    "unsupported": lambda e: f"? unsupported verb <{e['verb']}>",
}


def format_event(event: dict, verbose: bool = False) -> str | None:
    """One line for an event; requests only when verbose."""
    if event["kind"] == "request":
        if not verbose:
            return None
        params = " ".join(f"{k}={v}" for k, v in event["params"].items())
        return f"→ {event['method']} {event['url']} {params} [{event['status']}]".rstrip()
    fmt = SHOWN.get(event["kind"])
    return fmt(event) if fmt else f"{event['kind']} {event}"


def format_transcript(events: list[dict], verbose: bool = False) -> str:
    lines = []
    for e in events:
        line = format_event(e, verbose)
        if line is not None:
            lines.append(f"[{e['t']:6.1f}s] {line}")
    return "\n".join(lines)
