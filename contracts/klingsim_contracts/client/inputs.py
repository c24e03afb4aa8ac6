"""What the suite asks a client to submit: valid create bodies derived from the provider's spec.

The generation itself is the kit's (`klingsim_contracts.strategies`); here every draw is also put through
the simulator's own validation and plan hook, so a client is never asked for something the provider refuses.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from klingsim.core.validation import validate
from klingsim.spec import ErrorRole, ProviderSpec, Violation
from klingsim_contracts import strategies


def accepted(spec: ProviderSpec, body: dict[str, Any]) -> bool:
    """Whether the provider accepts the body: field and cross-field rules, then its plan (price, limits)."""
    variant = strategies.variant_of(spec, body)
    if variant is None:
        return False
    try:
        normalized = spec.hooks.normalize(dict(body)) if spec.hooks.normalize else dict(body)
        checked = validate(variant, normalized, spec.roles[ErrorRole.VALIDATION])
        plan = spec.hooks.plan(variant.name, checked, spec.setting_values())
        spec.prices.price(plan.price_key, plan.billed_seconds)
    except (Violation, KeyError, LookupError):
        return False
    return True


def valid_requests(spec: ProviderSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Create bodies the provider accepts (Hypothesis shrinks a failing one towards the simplest)."""
    return strategies.valid_requests(spec).filter(lambda body: accepted(spec, body))


def minimal_request(spec: ProviderSpec) -> dict[str, Any]:
    """One small valid request, the cheapest of the spec's base bodies (for runs without Hypothesis)."""
    bodies = [b for b in strategies.base_bodies(spec) if accepted(spec, b)]
    return strategies.cheapest(spec, bodies)
