"""The interactive caller behind `flask ivr call`: prompts on screen, keys from the keyboard."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import click

from simulator.phone import Action, Need, Phone
from simulator.transcript import format_event
from simulator.voice import VoiceError, speak

HELP = {
    "gather": "keys (e.g. 1 or 123#), 'say TEXT', Enter = stay silent, 'h' = hang up",
    "record": "'say TEXT' or 'wav FILE' to speak, Enter = silence, 'h' = hang up",
    "queue": "Enter = keep waiting, 'agent' = an agent answers, 'h' = hang up",
    "dial": "'agent' = answered (default), 'busy', 'no-answer', 'h' = hang up",
}


def player_command() -> list[str] | None:
    """A command that plays a WAV file on this machine's sound device, if any."""
    if shutil.which("aplay"):
        return ["aplay", "-q"]
    if shutil.which("play"):
        return ["play", "-q"]
    return None


class Speaker:
    """Plays what the caller hears (--play); quietly gives up when there is no sound device."""

    def __init__(self, phone: Phone, language: str):
        self.phone = phone
        self.language = language
        self.command = player_command()
        self.working = self.command is not None
        if not self.working:
            click.echo("(no aplay/play found: prompts are shown, not played)", err=True)

    def hear(self, event: dict) -> None:
        if not self.working or event["kind"] not in ("say", "play"):
            return
        try:
            if event["kind"] == "play":
                reply = self.phone.transport.request("GET", event["url"])
                audio = reply.body if reply.status == 200 else None
            else:
                audio = speak(event["text"], event.get("language") or self.language)
        except (OSError, VoiceError) as exc:
            click.echo(f"(cannot play: {exc})", err=True)
            return
        if not audio:
            return
        with tempfile.NamedTemporaryFile(suffix=".wav") as f:
            f.write(audio)
            f.flush()
            done = subprocess.run([*self.command, f.name], capture_output=True, check=False)
        if done.returncode != 0:
            self.working = False
            lines = done.stderr.decode(errors="replace").strip().splitlines() or ["?"]
            # ALSA prefixes its messages with "ALSA lib file.c:855:(function) ".
            click.echo(f"(sound device unavailable: {lines[0].rsplit(') ', 1)[-1]})", err=True)


class TerminalCaller:
    """Asks the person at the keyboard what the caller does at each Need."""

    def __init__(self, language: str = "zh-CN"):
        self.language = language

    def answer(self, need: Need, phone: Phone) -> Action:
        click.echo(click.style(f"  [{need.kind}] {HELP[need.kind]}", dim=True))
        try:
            line = click.prompt(">", default="", show_default=False, prompt_suffix=" ").strip()
        except (click.Abort, EOFError):
            return Action("hangup")
        return self.parse(line, need)

    def parse(self, line: str, need: Need) -> Action:
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in ("h", "hangup", "q", "quit"):
            return Action("hangup")
        if word == "say" and rest:
            if need.kind == "record":
                return Action("audio", rest, audio=speak(rest, self.language))
            return Action("speech", rest)
        if word == "wav" and rest:
            return Action("audio", None, audio=Path(rest).expanduser().read_bytes())
        if need.kind == "dial":
            return Action({"": "agent", "answer": "agent"}.get(word, word))
        if word in ("agent", "answer"):
            return Action("agent")
        if line and all(c in "0123456789*#" for c in line):
            return Action("keys", line)
        return Action("wait")


def show_new(phone: Phone, shown: int, verbose: bool, speaker: Speaker | None) -> int:
    """Print the events the call produced since `shown`; return the new count."""
    for event in phone.events[shown:]:
        line = format_event(event, verbose)
        if line is not None:
            click.echo(f"[{event['t']:6.1f}s] {line}")
        if speaker is not None:
            speaker.hear(event)
    return len(phone.events)
