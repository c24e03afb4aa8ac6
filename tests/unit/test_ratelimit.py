"""Rate limits on the simulator's clock: per account or key, with Retry-After, in the provider's envelope."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from klingsim.core.ratelimit import Limit, RateLimiter
from klingsim.providers import ALL, kling3api
from klingsim.spec import ProviderSpec, RateLimit, inferred
from tests.support import SimClient, bearer

KEY = "k3a_live_0123456789abcdef"
OTHER = "k3a_live_fedcba9876543210"
LIMITED = dataclasses.replace(
    kling3api.SPEC, rate_limit=RateLimit(3, 60, inferred("test limit"), scope="account")
)


def poll(client: SimClient, key: str = KEY, provider: str = "kling3api") -> int:
    answer = client.get(f"/{provider}/api/status", params={"task_id": "n75000000000000"}, headers=bearer(key))
    return answer.status_code


def test_the_window_slides_on_the_clock() -> None:
    limiter, limit = RateLimiter(), Limit(2, 10)
    assert limiter.admit("p", "a", limit, 0.0) is None
    assert limiter.admit("p", "a", limit, 4.0) is None
    assert limiter.admit("p", "a", limit, 5.0) == 5  # the first slot frees at t=10
    assert limiter.admit("p", "a", limit, 10.0) is None
    assert limiter.admit("p", "a", limit, 10.5) == 4  # the t=4 one frees at 14
    assert limiter.admit("p", "b", limit, 10.5) is None  # another holder has its own window


def test_a_spec_limit_answers_429_in_the_envelope_with_retry_after() -> None:
    client = SimClient([LIMITED])
    assert [poll(client) for _ in range(3)] == [404, 404, 404]
    answer = client.get("/kling3api/api/status", params={"task_id": "n75000000000000"}, headers=bearer(KEY))
    assert answer.status_code == 429
    assert answer.json()["error"] == "RATE_LIMITED" and answer.json()["code"] == 429
    assert answer.headers["retry-after"] == "60"
    client.advance(59)
    assert poll(client) == 429
    client.advance(1)
    assert poll(client) == 404


def test_rejected_requests_do_not_extend_the_wait() -> None:
    client = SimClient([LIMITED])
    for _ in range(3):
        poll(client)
    client.advance(30)
    for _ in range(10):
        assert poll(client) == 429
    client.advance(30)
    assert poll(client) == 404


def test_keys_of_one_account_share_its_limit() -> None:
    client = SimClient([LIMITED])
    client.sim.set_balance("kling3api", KEY, Decimal(100), account="team")
    client.sim.set_balance("kling3api", OTHER, Decimal(100), account="team")
    assert [poll(client, KEY), poll(client, OTHER), poll(client, KEY)] == [404, 404, 404]
    assert poll(client, OTHER) == 429


def test_separate_accounts_have_separate_limits() -> None:
    client = SimClient([LIMITED])
    for _ in range(3):
        poll(client, KEY)
    assert poll(client, KEY) == 429
    assert poll(client, OTHER) == 404


def test_per_key_scope_counts_each_key_alone() -> None:
    spec = dataclasses.replace(kling3api.SPEC, rate_limit=RateLimit(1, 60, inferred("test"), scope="key"))
    client = SimClient([spec])
    client.sim.set_balance("kling3api", KEY, Decimal(100), account="team")
    client.sim.set_balance("kling3api", OTHER, Decimal(100), account="team")
    assert [poll(client, KEY), poll(client, OTHER)] == [404, 404]
    assert poll(client, KEY) == 429


def test_the_default_applies_where_a_provider_documents_none() -> None:
    client = SimClient([kling3api.SPEC], default_rate_limit=Limit(2, 1))
    assert [poll(client) for _ in range(3)] == [404, 404, 429]
    client.advance(1)
    assert poll(client) == 404


def test_no_limit_by_default_without_one_in_the_spec() -> None:
    client = SimClient([kling3api.SPEC])
    assert {poll(client) for _ in range(200)} == {404}


def test_a_provider_limit_can_be_switched_off() -> None:
    client = SimClient([LIMITED], rate_limits={"kling3api": None})
    assert {poll(client) for _ in range(10)} == {404}


def empiriolabs_spec() -> ProviderSpec:
    spec = next((s for s in ALL if s.id == "empiriolabs"), None)
    if spec is None:
        pytest.fail("empiriolabs is expected among the providers")
    return spec


def test_empiriolabs_allows_50_requests_a_minute_per_account() -> None:
    spec = empiriolabs_spec()
    assert spec.rate_limit is not None and (spec.rate_limit.requests, spec.rate_limit.per_seconds) == (50, 60)
    client = SimClient([spec])
    first, second = "sk-empiriolabs-aaaaaaaaaaaaaaaa", "sk-empiriolabs-bbbbbbbbbbbbbbbb"
    client.sim.set_balance("empiriolabs", first, Decimal(10), account="acct")
    client.sim.set_balance("empiriolabs", second, Decimal(10), account="acct")
    statuses = []
    for i in range(50):
        key = first if i % 2 else second
        statuses.append(client.get("/empiriolabs/v1/jobs/job_unknown", headers=bearer(key)).status_code)
        client.advance(1)  # 50 requests spread over 50 s: still one window
    assert 429 not in statuses
    refused = client.get("/empiriolabs/v1/jobs/job_unknown", headers=bearer(first))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert refused.headers["retry-after"] == "10"  # the first request leaves the window at t=60
    other = "sk-empiriolabs-cccccccccccccccc"
    assert client.get("/empiriolabs/v1/jobs/job_unknown", headers=bearer(other)).status_code != 429
