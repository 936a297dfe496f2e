"""Scripted callers: `1,wait:6,say:供暖,wav:msg.wav,agent:30,hangup` answers a call's Needs.

Each step is used when the call next asks the caller for something:
  digits (`1`, `123#`, `key:1`)  press keys at a <Gather>; a finish key at a <Record>
  `wait:N`                      stay silent N s (a <Gather> times out, a <Record> gets
                                nothing, a queue is waited in for N s of call time)
  `say:TEXT`                    speak TEXT (speech <Gather>: SpeechResult; <Record>: audio)
  `wav:PATH`                    send a WAV file where the flow records
  `agent[:N]`                   an agent / the dialled party answers and talks N s
  `busy`, `no-answer`, `failed` outcome of a <Dial>
  `hangup`                      the caller hangs up
In a queue, a step meant for a later prompt keeps the caller on hold (at most
MAX_SCRIPTED_HOLD s). When the script runs out the caller hangs up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from simulator.phone import Action, Need, Phone
from simulator.voice import speak

MAX_SCRIPTED_HOLD = 600  # seconds a scripted caller stays on hold waiting for the flow to move
STEP_KINDS = ("keys", "wait", "say", "wav", "agent", "busy", "no-answer", "failed", "hangup")


class ScriptError(ValueError):
    """A script step that cannot be understood."""


@dataclass(frozen=True)
class Step:
    kind: str
    value: str | None = None


def parse_script(text: str) -> list[Step]:
    """Parse a comma-separated script into steps (see the module docstring)."""
    steps = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        name, _, arg = item.partition(":")
        name = name.strip().lower()
        if all(c in "0123456789*#" for c in item):
            steps.append(Step("keys", item))
        elif name == "key" and arg:
            steps.append(Step("keys", arg.strip()))
        elif name == "wait":
            try:
                float(arg or "5")
            except ValueError:
                raise ScriptError(f"wait needs seconds, got {arg!r}") from None
            steps.append(Step("wait", arg or "5"))
        elif name in ("say", "wav") and arg:
            steps.append(Step(name, arg))
        elif name in ("agent", "answer"):
            steps.append(Step("agent", arg or None))
        elif name in ("busy", "no-answer", "failed", "hangup") and not arg:
            steps.append(Step(name))
        else:
            raise ScriptError(
                f"unknown script step {item!r} (expected one of "
                f"digits, key:, wait:, say:, wav:, agent, busy, no-answer, "
                f"failed, hangup)"
            )
    return steps


class ScriptedCaller:
    """Answers each Need from the next step of a script."""

    def __init__(
        self,
        steps: list[Step],
        *,
        language: str = "zh-CN",
        voice: Callable[[str, str], bytes] = speak,
    ):
        self.steps = list(steps)
        self.language = language
        self.voice = voice
        self._queue_deadline: float | None = None
        self._queued = False  # a wait step has already run in this queue

    def answer(self, need: Need, phone: Phone) -> Action:
        if need.kind == "queue":
            return self._in_queue(need, phone)
        if self._queue_deadline is not None:
            # The flow took the caller out of the queue while they were waiting: that wait is over.
            self._queue_deadline = None
            if self.steps and self.steps[0].kind == "wait":
                self.steps.pop(0)
        if not self.steps:
            return Action("hangup")
        step = self.steps.pop(0)
        return self._action(step, need)

    def _action(self, step: Step, need: Need) -> Action:
        if step.kind == "keys":
            return Action("keys", step.value)
        if step.kind == "wait":
            return Action("wait", float(step.value))
        if step.kind == "say":
            if need.kind == "record":
                return Action("audio", step.value, audio=self.voice(step.value, self.language))
            return Action("speech", step.value)
        if step.kind == "wav":
            return Action("audio", None, audio=Path(step.value).read_bytes())
        if step.kind == "agent":
            return Action("agent", float(step.value) if step.value else None)
        return Action(step.kind)

    def _in_queue(self, need: Need, phone: Phone) -> Action:
        clock = phone.state["clock"]
        while self.steps:
            step = self.steps[0]
            if step.kind == "wait":
                if self._queue_deadline is None:
                    # Count from entering the queue: the first question comes after the
                    # first round of hold music.
                    start = clock - need.attrs.get("waited", 0) if not self._queued else clock
                    self._queue_deadline = start + float(step.value)
                    self._queued = True
                if clock < self._queue_deadline:
                    return Action("wait")
                self._queue_deadline = None
                self.steps.pop(0)
                continue
            if step.kind in ("agent", "hangup"):
                self.steps.pop(0)
                self._queued = False
                return self._action(step, Need("queue"))
            # The next step is for a later prompt: stay on hold until the flow moves on.
            if need.attrs.get("waited", 0) < MAX_SCRIPTED_HOLD:
                return Action("wait")
            break
        return Action("hangup")


def run_call(phone: Phone, caller) -> Phone:
    """Play a whole call: start it, then answer every Need with `caller.answer`."""
    need = phone.start()
    while need is not None:
        need = phone.resume(caller.answer(need, phone))
    return phone
