"""The exported strategies keep their promise against klingsim: valid bodies are accepted, and each invalid
body is refused with the error of the one rule it breaks; boundaries come as min-1, min, max, max+1."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from klingsim.core.auth import credential_headers
from klingsim.providers import ALL, by_id
from klingsim_contracts import shapes, strategies
from tests.support import SimClient

KIT_PROVIDERS = [s.id for s in ALL]
CLIENT = SimClient()  # module-level: Hypothesis examples must not share a function-scoped fixture


def _create(provider: str, body: object) -> tuple[int, object]:
    spec = by_id(provider)
    CLIENT.sim.set_balance(provider, spec.auth.example_key, __import__("decimal").Decimal(10**7))
    path, sent, _ = strategies.split(spec, body)  # fal's model id goes into the path
    headers = credential_headers(spec.auth, spec.auth.example_key)  # Kling's JWT, fal's `Key`, a Bearer
    answer = CLIENT.post(f"/{provider}{path}", json=sent, headers=headers)
    CLIENT.clock.advance(3600)  # the job ends: Kling and fal cap the unfinished jobs of an account
    return answer.status_code, answer.json()


@pytest.mark.parametrize("provider", KIT_PROVIDERS)
def test_valid_requests_are_accepted(provider: str) -> None:
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(strategies.valid_requests(by_id(provider)))
    def check(body: dict[str, object]) -> None:
        status, answer = _create(provider, body)
        assert status == strategies.create_endpoint(by_id(provider)).success_status, answer

    check()


@pytest.mark.parametrize("provider", KIT_PROVIDERS)
def test_invalid_requests_get_the_error_of_the_rule_they_break(provider: str) -> None:
    spec = by_id(provider)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(strategies.invalid_requests(spec))
    def check(invalid: strategies.Invalid) -> None:
        status, answer = _create(provider, invalid.body)
        assert shapes.matches(spec, spec.error(invalid.error), status, answer), (invalid, answer)

    check()


def test_boundaries_come_first_in_order() -> None:
    duration = by_id("kling3api").endpoints[0].body.variants[0].param("duration")  # type: ignore[union-attr]
    assert duration is not None
    assert strategies.range_values(duration) == [(2, False), (3, True), (15, True), (16, False)]
