"""What a caller waiting in the agent queue hears, and when they leave it for the overflow.

The provider asks again each time the previous answer has played, so each answer
is one round: a hold prompt (rotating through the node's prompts), the caller's
place in the queue, then a pause. Once the node's overflow time has passed the
answer is to leave the queue; the queue's result then resumes the session and the
transfer node takes its overflow exit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.flows import events as ev
from ivr.flows.model import Flow
from ivr.flows.placeholders import fill

# Seconds of one hold round (its pause); the prompt rotates once per round.
HOLD_ROUND_SECONDS = 5


@dataclass(frozen=True)
class Hold:
    """One hold round: prompts to speak then seconds of quiet, or leave the queue."""

    prompts: tuple[ev.Say, ...] = ()
    pause: int = HOLD_ROUND_SECONDS
    leave: bool = False


def hold(flow: Flow, node_id: str, language: str, *, queue_time: int, position: int) -> Hold:
    """The round for a caller at `node_id` who has waited `queue_time` s, `position` in line."""
    node = flow.nodes[node_id]
    texts = [p.say.get(language) or p.say[flow.default_language] for p in node.hold] or [
        flow.message("hold").say[language]
    ]
    prompt = ev.Say(texts[(queue_time // HOLD_ROUND_SECONDS) % len(texts)], language)
    said = [prompt]
    ahead = position - 1
    if ahead > 0:
        # A flow stored before placeholders were checked may not fill: say the built-in.
        for prompt in (node.position, flow.message("position")):
            text = fill(prompt.say[language], {"position": ahead}) if prompt else None
            if text is not None:
                said.append(ev.Say(text, language))
                break
    if node.overflow is None:
        return Hold(tuple(said))
    remaining = node.overflow_after - queue_time
    if remaining <= 0:
        return Hold(leave=True)
    if remaining <= HOLD_ROUND_SECONDS:
        # The provider asks again only when this answer is done: close to the overflow time,
        # wait just the seconds left (no prompt) so the offer comes at overflow_after, not a
        # whole round later.
        return Hold(pause=remaining)
    return Hold(tuple(said))
