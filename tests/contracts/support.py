"""Running the gateway suite against an in-process app whose control plane is its own upstream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from klingsim_contracts.report import Report
from klingsim_contracts.runner import run_gateway_suite
from klingsim_contracts.targets import AsgiTarget


def run_in_process(
    app: Any, provider: str, max_examples: int = 10, seed: int = 0, rules: Sequence[str] | None = None
) -> Report:
    target = AsgiTarget(app, f"http://testserver/{provider}")
    control = AsgiTarget(app)
    try:
        return run_gateway_suite(
            provider, target, upstream_control=control, max_examples=max_examples, seed=seed, rules=rules
        )
    finally:
        target.close()
        control.close()
