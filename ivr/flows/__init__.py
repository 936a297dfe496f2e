"""Flow definitions and the engine that runs a call through them.

reader (YAML -> plain data with lines) -> builder/schema/graph (validation) ->
model (immutable Flow) -> engine (a typed `Session`, stored as versioned JSON
between turns; run until a wait, resume with typed inputs; `hold` decides the
queue's hold rounds and the overflow). Nothing here knows Flask, Twilio or the
database: side effects reach the engine through the `Services` port.
"""

from ivr.flows.builder import load_flow, load_text
from ivr.flows.errors import FlowError, FlowGraphError, FlowIssue, FlowShapeError, FlowSyntaxError
from ivr.flows.model import Flow

__all__ = [
    "Flow",
    "FlowError",
    "FlowGraphError",
    "FlowIssue",
    "FlowShapeError",
    "FlowSyntaxError",
    "load_flow",
    "load_text",
]
