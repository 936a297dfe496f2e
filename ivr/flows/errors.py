"""Flow definition errors: one base exception carrying every issue found.

Each issue names the file, the line and the path inside the flow, so a
supervisor reads `flows.yaml:42 nodes.main_menu.options[2]: target 'heatng' is
not a node (did you mean 'heating'?)` and knows exactly what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowIssue:
    """One problem in a flow file: where it is and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class FlowError(Exception):
    """A flow could not be loaded; `.errors` lists every issue found."""

    def __init__(self, errors: list[FlowIssue]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class FlowSyntaxError(FlowError):
    """The file is not readable YAML (or not a mapping at the top)."""


class FlowShapeError(FlowError):
    """Keys, types or values do not fit the flow schema."""


class FlowGraphError(FlowError):
    """The node graph is wrong: missing targets, unreachable or trap nodes."""
