"""Every Prospolabs error answers in its flat {code, message} envelope with its status, and costs nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from klingsim.providers.prospolabs import SPEC
from tests.support import SimClient, bearer

KEY = "prsp-0123456789abcdef"
H = bearer(KEY)
GENERATE = "/prospolabs/v1/generate"
BASE = {"model": "kling-o3", "prompt": "a fox in the snow"}


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message"} and body["code"] == code
    assert isinstance(body["message"], str) and body["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"model": "kling-o3"},  # prompt is required
        {**BASE, "prompt": "   "},
        {**BASE, "mode": "video"},
        {**BASE, "quality": "4k"},
        {**BASE, "generate_audio": "true"},
        {**BASE, "aspect_ratio": "4:3"},
        {**BASE, "shot_type": "intelligence"},  # official Kling's spelling, not Prospolabs' (C8)
        {**BASE, "mode": "image"},  # image mode needs image_url
        {**BASE, "multi_prompt": "shot one | shot two"},  # a string that is not a JSON list (C14)
        {**BASE, "multi_prompt": '{"prompt": "x"}'},
        {**BASE, "multi_prompt": [{"prompt": "x"}]},  # a shot needs its duration
        {**BASE, "async": "yes"},
        {"model": "kling-o3", "params": "prompt=x"},
        {"prompt": "x"},  # model is required
    ],
)
def test_invalid_bodies_are_400_invalid_request(body: dict[str, Any]) -> None:
    assert_error(SimClient([SPEC]).post(GENERATE, headers=H, json=body), 400, "invalid_request")


def test_invalid_requests_charge_nothing() -> None:
    c = SimClient([SPEC])
    c.post(GENERATE, headers=H, json={**BASE, "duration": 16})
    account = c.get(f"/_klingsim/accounts/prospolabs/{KEY}").json()
    assert account["balance"] == 10 and [e["kind"] for e in account["entries"]] == ["topup"]


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"prompt=x", "application/x-www-form-urlencoded"),
    ],
)
def test_unparseable_bodies_are_400_invalid_request(content: bytes, ctype: str) -> None:
    response = SimClient([SPEC]).post(GENERATE, headers={**H, "Content-Type": ctype}, content=content)
    assert_error(response, 400, "invalid_request")


def test_async_query_flag_must_be_true_or_false() -> None:
    response = SimClient([SPEC]).post(GENERATE + "?async=maybe", headers=H, json=BASE)
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("sk-not-a-prospolabs-key"),
        {"Authorization": "Basic cHJzcA=="},
        {"Authorization": "Bearer "},
    ],
)
def test_missing_or_malformed_keys_are_401_unauthorized(headers: dict[str, str]) -> None:
    assert_error(SimClient([SPEC]).post(GENERATE, headers=headers, json=BASE), 401, "unauthorized")


def test_insufficient_balance_is_a_402_that_charges_nothing() -> None:
    c = SimClient([SPEC])
    c.sim.set_balance("prospolabs", KEY, Decimal("0.499"))
    assert_error(c.post(GENERATE, headers=H, json=BASE), 402, "insufficient_balance")
    assert c.sim.ledger.balance("prospolabs", KEY) == Decimal("0.499")
    c.sim.set_balance("prospolabs", KEY, Decimal("0.5"))
    assert c.post(GENERATE, headers=H, json=BASE).json()["status"] == "completed"
    assert c.sim.ledger.balance("prospolabs", KEY) == 0


def test_unknown_model_is_404_model_not_found() -> None:
    assert_error(
        SimClient([SPEC]).post(GENERATE, headers=H, json={**BASE, "model": "kling-o4"}),
        404,
        "model_not_found",
    )


def test_unknown_generations_and_other_keys_generations_are_404_not_found() -> None:
    c = SimClient([SPEC])
    assert_error(c.get("/prospolabs/v1/generations/gen_doesnotexist", headers=H), 404, "not_found")
    mine = c.post(GENERATE, headers=H, json=BASE).json()["generation_id"]
    other = bearer("prsp-someone-elses-key")
    assert_error(c.get(f"/prospolabs/v1/generations/{mine}", headers=other), 404, "not_found")


def test_unknown_routes_and_wrong_methods_answer_in_the_envelope() -> None:
    c = SimClient([SPEC])
    assert_error(c.get("/prospolabs/v1/videos", headers=H), 404, "not_found")
    wrong = c.get(GENERATE, headers=H)
    assert_error(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "POST"


def test_bodies_over_one_mebibyte_are_413() -> None:
    big = b'{"prompt": "' + b"x" * (1024 * 1024) + b'"}'
    response = SimClient([SPEC]).post(
        GENERATE, headers={**H, "Content-Type": "application/json"}, content=big
    )
    assert_error(response, 413, "payload_too_large")


def test_the_sixty_first_request_in_a_minute_is_429_rate_limited_with_retry_after() -> None:
    c = SimClient([SPEC])
    gid = c.post(GENERATE, headers=H, json=BASE).json()["generation_id"]
    statuses = [c.get(f"/prospolabs/v1/generations/{gid}", headers=H).status_code for _ in range(59)]
    assert statuses == [200] * 59
    limited = c.get(f"/prospolabs/v1/generations/{gid}", headers=H)
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    c.advance(60)
    assert c.get(f"/prospolabs/v1/generations/{gid}", headers=H).status_code == 200


def test_injected_internal_error_is_500_internal_error() -> None:
    c = SimClient([SPEC])
    response = c.post(GENERATE, headers={**H, "X-Klingsim-Fault": "internal_error"}, json=BASE)
    assert_error(response, 500, "internal_error")
    assert not [e for e in c.sim.ledger.entries("prospolabs", KEY) if e.kind == "charge"]
    assert not list(c.sim.engine.jobs())


@pytest.mark.parametrize("url", ["http://hooks.example.com/x", "https://127.0.0.1/x", "not a url"])
def test_webhook_urls_must_be_public_https(url: str) -> None:
    body = {**BASE, "async": True, "webhook_url": url}
    assert_error(SimClient([SPEC]).post(GENERATE, headers=H, json=body), 400, "invalid_request")


def test_no_error_leaks_a_framework_default() -> None:
    c = SimClient([SPEC])
    for response in (c.post(GENERATE, headers=H, json={**BASE, "duration": "x"}), c.get("/prospolabs/nope")):
        assert "detail" not in response.json() and response.status_code != 422
