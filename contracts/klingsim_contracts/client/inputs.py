"""What the suite asks a client to submit: valid create bodies derived from the provider's spec.

The generation itself is the kit's (`klingsim_contracts.strategies`); here every draw is also put through
the simulator's own `evaluate()`, so a client is never asked for something the provider refuses.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from klingsim.core.evaluate import evaluate
from klingsim.spec import ProviderSpec
from klingsim_contracts import strategies


def accepted(spec: ProviderSpec, body: dict[str, Any]) -> bool:
    """Whether the provider accepts the body: field and cross-field rules, constraints, plan and price."""
    return evaluate(spec, body).ok


def valid_requests(spec: ProviderSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Create bodies the provider accepts (Hypothesis shrinks a failing one towards the simplest)."""
    return strategies.valid_requests(spec).filter(lambda body: accepted(spec, body))


def minimal_request(spec: ProviderSpec) -> dict[str, Any]:
    """One small valid request, the cheapest of the spec's base bodies (for runs without Hypothesis)."""
    bodies = [b for b in strategies.base_bodies(spec) if accepted(spec, b)]
    return strategies.cheapest(spec, bodies)
