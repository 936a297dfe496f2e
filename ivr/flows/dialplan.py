"""Where a flow may send a caller: the DIAL_ALLOWED allow-list for `dial:` targets.

A supervisor edits flows.yaml in a browser. Without a list, one published
`dial: "+1900…"` (a premium line abroad) or `dial: "sip:anyone@elsewhere"` would
have the city pay for, and hand its callers to, any number in the world. The
list holds E.164 prefixes (`+86`: mainland numbers) and SIP domains
(`sip:pbx.example.gov.cn`); OPERATOR_NUMBER is always allowed. A number without
`+` is a domestic one: allowed when `+86` is, unless it dials abroad (`00…`).

Checked when a flow is validated (`flask flows check`, the studio's validate and
publish: an error naming the line) and again when a turn is rendered, in case
the setting changed after publishing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.flows.errors import FlowIssue
from ivr.flows.model import Flow, TransferNode

DEFAULT = "+86"
MAINLAND = "+86"
_SIP_RE = re.compile(r"^sip:([^@\s;]+)@([A-Za-z0-9.-]+)(?::\d+)?(?:;.*)?$")
_DOMESTIC_RE = re.compile(r"^[0-9]{3,15}$")


@dataclass(frozen=True)
class DialPlan:
    prefixes: tuple[str, ...]
    sip_domains: tuple[str, ...]
    operator: str | None = None

    @classmethod
    def from_setting(cls, setting: str | None, operator: str | None = None) -> DialPlan:
        """'+86,sip:pbx.example.gov.cn' -> the plan (OPERATOR_NUMBER always allowed)."""
        entries = [e.strip() for e in (setting or DEFAULT).split(",") if e.strip()]
        prefixes = tuple(e for e in entries if e.startswith("+"))
        domains = tuple(e.removeprefix("sip:").lower() for e in entries if e.startswith("sip:"))
        return cls(prefixes, domains, operator)

    def refusal(self, target: str) -> str | None:
        """Why `target` may not be dialled, or None when it may."""
        target = target.strip()
        if self.operator and target == self.operator.strip():
            return None
        sip = _SIP_RE.match(target)
        if sip:
            if sip.group(2).lower() in self.sip_domains:
                return None
            return f"SIP domain '{sip.group(2)}' is not in DIAL_ALLOWED ({self._allowed()})"
        compact = re.sub(r"[\s()-]", "", target)
        if compact.startswith("+") and compact[1:].isdigit():
            if any(compact.startswith(p) for p in self.prefixes):
                return None
            return f"number '{target}' is not in DIAL_ALLOWED ({self._allowed()})"
        if _DOMESTIC_RE.match(compact) and not compact.startswith("00"):
            if MAINLAND in self.prefixes:
                return None
            return f"domestic number '{target}' needs {MAINLAND} in DIAL_ALLOWED"
        return f"'{target}' is neither an E.164 number, a domestic number nor a sip: URI"

    def _allowed(self) -> str:
        allowed = [*self.prefixes, *(f"sip:{d}" for d in self.sip_domains)]
        return ", ".join(allowed) or "nothing"


def plan_for(config) -> DialPlan:
    """The plan an app's (or a process's) settings give."""
    return DialPlan.from_setting(config.get("DIAL_ALLOWED"), config.get("OPERATOR_NUMBER"))


def flow_issues(flow: Flow, plan: DialPlan) -> list[FlowIssue]:
    """One issue, with the node's line, per `dial:` target the plan refuses."""
    issues = []
    for node in flow.nodes.values():
        if isinstance(node, TransferNode) and node.dial:
            why = plan.refusal(node.dial)
            if why:
                path = f"nodes.{node.id}.dial"
                issues.append(FlowIssue(flow.file, node.line, path, why, "dial_refused"))
    return issues
