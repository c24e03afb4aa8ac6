"""klingsim_contracts: check clients and gateways against each provider's documented behaviour.

Gateway mode: `run_gateway_suite(provider, target, ...)` runs the rule catalogue (`catalogue(spec)`)
against a base URL or an ASGI app; `klingsim_contracts.strategies` holds the spec-derived Hypothesis
strategies for your own tests.

Client mode: `check_client(run, provider=..., make_app=...)` drives a client callable through the scenarios
(the pytest fixture `klingsim_check_client` binds `make_app`); `check_command` does it for a program.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klingsim_contracts.client import ClientReport, check_client, check_command
    from klingsim_contracts.report import Report, Verdict
    from klingsim_contracts.rules import Rule, all_rules, catalogue
    from klingsim_contracts.runner import run_gateway_suite
    from klingsim_contracts.sandwich import UpstreamControl
    from klingsim_contracts.targets import AsgiTarget, HttpTarget

_LAZY = {
    "run_gateway_suite": "klingsim_contracts.runner",
    "Report": "klingsim_contracts.report",
    "Verdict": "klingsim_contracts.report",
    "Rule": "klingsim_contracts.rules",
    "catalogue": "klingsim_contracts.rules",
    "all_rules": "klingsim_contracts.rules",
    "UpstreamControl": "klingsim_contracts.sandwich",
    "HttpTarget": "klingsim_contracts.targets",
    "AsgiTarget": "klingsim_contracts.targets",
    "check_client": "klingsim_contracts.client",
    "check_command": "klingsim_contracts.client",
    "ClientReport": "klingsim_contracts.client",
}


def __getattr__(name: str) -> Any:
    # Lazy, so the pytest plugin can import this package without pulling in Hypothesis or schemathesis.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = [
    "AsgiTarget",
    "ClientReport",
    "HttpTarget",
    "Report",
    "Rule",
    "UpstreamControl",
    "Verdict",
    "all_rules",
    "catalogue",
    "check_client",
    "check_command",
    "run_gateway_suite",
]
