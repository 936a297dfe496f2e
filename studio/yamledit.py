"""Edits the studio makes to flows.yaml for the supervisor, keeping comments and key order.

ruamel.yaml's round-trip mode keeps comments, key order, flow-style lists and
quoting; the indentation is the shipped file's (mappings 2, sequences 4 with
the dash at 2). A supervisor's hand-made layout elsewhere is left as it was.
"""

from __future__ import annotations

import io

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from core import safeyaml
from studio.revisions import StudioError

LINE_WIDTH = 4096  # never fold a long Chinese prompt onto two lines


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = LINE_WIDTH
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(yaml: YAML, text: str):
    """The flow text as ruamel's commented data, after core.safeyaml's checks."""
    try:
        safeyaml.check(text, "flows.yaml")
        return yaml.load(text)
    except safeyaml.YAMLRefused as exc:
        raise StudioError(str(exc)) from None
    except YAMLError as exc:
        raise StudioError(f"the flow is not readable YAML: {exc}") from None


def round_trip(text: str) -> str:
    """Load and dump without changes (what every studio edit starts from)."""
    yaml = _yaml()
    out = io.StringIO()
    yaml.dump(_load(yaml, text), out)
    return out.getvalue()


def set_prompt(text: str, node_id: str, say: str, language: str | None = None) -> str:
    """The flow text with node `node_id`'s `say` replaced (one language of a mapping)."""
    yaml = _yaml()
    doc = _load(yaml, text)
    try:
        node = doc["nodes"][node_id]
    except (KeyError, TypeError):
        raise StudioError(f"no node {node_id!r}") from None
    say = " ".join(say.split())
    if not say:
        raise StudioError("the prompt is empty")
    current = node.get("say")
    if hasattr(current, "keys"):
        key = language or next(iter(current), None)
        if key is None:
            raise StudioError(f"node {node_id!r} has an empty say mapping")
        current[key] = say
    else:
        node["say"] = say
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()
