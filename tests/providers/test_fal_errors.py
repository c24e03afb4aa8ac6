"""fal's errors in its own bodies: `Key` auth 401, unknown model 404, exhausted balance 403, unknown request
404, over the concurrency 429, infrastructure faults with X-Fal-Error-Type; none of them billed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from klingsim.providers import by_id
from tests.kling_auth import FAL_KEY, fal_headers
from tests.support import SimClient

H = fal_headers()
T2V = "/fal/fal-ai/kling-video/o3/standard/text-to-video"
APP = "/fal/fal-ai/kling-video/requests"


def assert_detail(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": f"Bearer {FAL_KEY}"}, {"Authorization": "Key "}, {"Authorization": "Key nope"}],
)
def test_missing_or_wrong_key_is_401(headers: dict[str, str]) -> None:
    assert_detail(SimClient().post(T2V, headers=headers, json={"prompt": "x"}), 401)


def test_unknown_model_is_404() -> None:
    response = SimClient().post(
        "/fal/fal-ai/kling-video/o3/ultra/text-to-video", headers=H, json={"prompt": "x"}
    )
    assert response.status_code == 404


def test_exhausted_balance_is_403_with_the_commonly_reported_detail() -> None:
    c = SimClient()
    c.request("PUT", f"/_klingsim/accounts/fal/{FAL_KEY}", json={"balance": 0.1})
    response = c.post(T2V, headers=H, json={"prompt": "x"})  # 5 s x 0.084 = 0.42 USD
    assert response.status_code == 403
    assert response.json() == {"detail": "User is locked. Reason: Exhausted balance."}


@pytest.mark.parametrize("suffix", ["/status", "", "/cancel"])
def test_unknown_or_foreign_request_is_404(suffix: str) -> None:
    c = SimClient()
    method = "PUT" if suffix == "/cancel" else "GET"
    unknown = c.request(method, f"{APP}/00000000-0000-4000-8000-000000000000{suffix}", headers=H)
    assert unknown.status_code == 404
    request_id = c.post(T2V, headers=H, json={"prompt": "x"}).json()["request_id"]
    other = fal_headers("11111111-2222-4333-8444-555555555555:00112233445566778899aabbccddeeff")
    foreign = c.request(method, f"{APP}/{request_id}{suffix}", headers=other)
    assert foreign.status_code == 404
    expected = {"status": "NOT_FOUND"} if suffix == "/cancel" else {"detail": "Request not found"}
    assert unknown.json() == expected and foreign.json() == expected


def test_over_the_concurrency_is_429() -> None:
    spec = by_id("fal").with_settings({"max_concurrent_requests": 2})
    c = SimClient([spec])
    for _ in range(2):
        assert c.post(T2V, headers=H, json={"prompt": "x"}).status_code == 200
    assert_detail(c.post(T2V, headers=H, json={"prompt": "x"}), 429)
    c.advance(3600)
    assert c.post(T2V, headers=H, json={"prompt": "x"}).status_code == 200


def test_default_concurrency_is_ten() -> None:
    c = SimClient()
    for _ in range(10):
        assert c.post(T2V, headers=H, json={"prompt": "x"}).status_code == 200
    assert c.post(T2V, headers=H, json={"prompt": "x"}).status_code == 429


@pytest.mark.parametrize(
    ("error_type", "status"),
    [("request_timeout", 504), ("runner_scheduling_failure", 503), ("internal_error", 500)],
)
def test_infrastructure_faults_answer_with_the_error_type_header(error_type: str, status: int) -> None:
    response = SimClient().post(T2V, headers={**H, "X-Klingsim-Fault": error_type}, json={"prompt": "x"})
    assert response.status_code == status
    assert response.json()["error_type"] == error_type and response.headers["x-fal-error-type"] == error_type


def test_a_failed_or_cancelled_request_is_not_billed() -> None:
    c = SimClient()
    failed = c.post(T2V, headers=H, json={"prompt": "x [klingsim:fail=internal_error]"}).json()
    cancelled = c.post(T2V, headers=H, json={"prompt": "x"}).json()
    assert c.request("PUT", cancelled["cancel_url"], headers=H).status_code == 202
    c.advance(3600)
    account = c.get(f"/_klingsim/accounts/fal/{FAL_KEY}").json()
    assert Decimal(str(account["balance"])) == Decimal(10)
    assert c.get(failed["status_url"], headers=H).json()["error"]
    cancelled_status = c.get(cancelled["status_url"], headers=H).json()
    assert cancelled_status["status"] == "COMPLETED" and cancelled_status["error"]
