"""Client mode: judge code that calls a provider (an SDK, an app, a script) by what it sends and claims."""

from klingsim_contracts.client.checks import Finding
from klingsim_contracts.client.report import ClientReport, ScenarioResult
from klingsim_contracts.client.runner import check_client, check_command
from klingsim_contracts.client.scenarios import SCENARIOS, Scenario

__all__ = [
    "SCENARIOS",
    "ClientReport",
    "Finding",
    "Scenario",
    "ScenarioResult",
    "check_client",
    "check_command",
]
