"""A deployment's limits on a valid flow: where calls may go, where prompt audio comes from.

The schema says what a flow may look like anywhere; these checks depend on the
deployment's settings (`DIAL_ALLOWED`, `PROMPT_AUDIO_ORIGINS`), so they run where
the settings are known: `flask flows check`, the studio's validate and publish.
Prompt audio is a file of ours (`/audio/NAME.wav`) unless its https origin is
listed: Twilio fetches whatever a `<Play>` names, so an unlisted origin is a
supervisor choosing what every caller hears from a server nobody vetted.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from ivr.flows import dialplan
from ivr.flows.errors import FlowIssue
from ivr.flows.model import Flow


def audio_origins(setting: str | None) -> frozenset[str]:
    """'https://cdn.example.gov.cn, https://x' -> {'https://cdn.example.gov.cn', ...}."""
    return frozenset(o.strip().rstrip("/").lower() for o in (setting or "").split(",") if o.strip())


def audio_issues(flow: Flow, origins: frozenset[str]) -> list[FlowIssue]:
    issues = []
    for node in flow.nodes.values():
        audio = node.prompt.audio if node.prompt else None
        if not audio or audio.startswith("/"):
            continue
        parts = urlsplit(audio)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if origin not in origins:
            allowed = ", ".join(sorted(origins)) or "none: only /audio/ files of ours"
            issues.append(
                FlowIssue(
                    flow.file,
                    node.line,
                    f"nodes.{node.id}.audio",
                    f"audio from {origin} is not in PROMPT_AUDIO_ORIGINS ({allowed})",
                    "audio_origin",
                )
            )
    return issues


def issues(flow: Flow, config: Mapping) -> list[FlowIssue]:
    """Every issue the deployment's settings find in a flow that is otherwise valid."""
    return dialplan.flow_issues(flow, dialplan.plan_for(config)) + audio_issues(
        flow, audio_origins(config.get("PROMPT_AUDIO_ORIGINS"))
    )
