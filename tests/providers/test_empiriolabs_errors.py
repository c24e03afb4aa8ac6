"""EmpirioLabs' documented errors, each in the OpenAI-style envelope of providers.md 1.5, and its OpenAPI."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from klingsim.providers.empiriolabs import SPEC
from tests.support import SimClient, bearer

KEY = "sk-empiriolabs-errors0123456789"
H = bearer(KEY)
CREATE = "/empiriolabs/v1/videos/generations"
BODY = {"model": "kling-o3", "prompt": "A lighthouse at dusk"}


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "type", "param"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def test_missing_key_is_401_missing_api_key() -> None:
    client = SimClient([SPEC])
    error = error_of(client.post(CREATE, json=BODY), 401, "missing_api_key")
    assert error["type"] == "authentication_error"
    error_of(client.get("/empiriolabs/v1/jobs/job_x"), 401, "missing_api_key")


@pytest.mark.parametrize(
    "headers",
    [
        bearer("sk-openai-0123456789"),
        bearer("not a key"),
        {"Authorization": "Basic c2stZW1waXJpbzp4"},
        {"x-api-key": "sk-other-0123456789"},
    ],
)
def test_malformed_keys_are_401_invalid_api_key(headers: dict[str, str]) -> None:
    error_of(SimClient([SPEC]).post(CREATE, headers=headers, json=BODY), 401, "invalid_api_key")


def test_x_api_key_header_is_accepted_and_shares_the_bearer_account() -> None:
    client = SimClient([SPEC])
    job_id = client.post(CREATE, headers={"x-api-key": KEY}, json=BODY).json()["job_id"]
    assert client.get(f"/empiriolabs/v1/jobs/{job_id}", headers=H).status_code == 200


def test_strict_keys_refuse_unknown_keys_of_the_right_shape() -> None:
    error_of(SimClient([SPEC], strict_keys=True).post(CREATE, headers=H, json=BODY), 401, "invalid_api_key")


def test_unknown_model_is_404_model_not_found() -> None:
    client = SimClient([SPEC])
    for model in ("kling-o1", "Kling-O3", 3):
        error = error_of(
            client.post(CREATE, headers=H, json={**BODY, "model": model}), 404, "model_not_found"
        )
        assert error["param"] == "model"


def test_missing_model_is_a_400() -> None:
    error_of(SimClient([SPEC]).post(CREATE, headers=H, json={"prompt": "x"}), 400, "invalid_request")


def test_unknown_job_and_another_accounts_job_are_404() -> None:
    client = SimClient([SPEC])
    error = error_of(client.get("/empiriolabs/v1/jobs/job_unknown", headers=H), 404, "not_found")
    assert error["type"] == "not_found_error"
    job_id = client.post(CREATE, headers=H, json=BODY).json()["job_id"]
    other = bearer("sk-empiriolabs-someone-else-0123")
    error_of(client.get(f"/empiriolabs/v1/jobs/{job_id}", headers=other), 404, "not_found")


def test_insufficient_credits_is_402() -> None:
    client = SimClient([SPEC])
    client.sim.set_balance("empiriolabs", KEY, Decimal(0))
    error_of(client.post(CREATE, headers=H, json=BODY), 402, "insufficient_credits")


def test_the_fifty_first_request_in_a_minute_is_429_with_retry_after() -> None:
    """50 requests per minute per account, every key of the account sharing them (public rate-limit page)."""
    client = SimClient([SPEC])
    statuses = [client.get("/empiriolabs/v1/models", headers=H).status_code for _ in range(50)]
    assert statuses == [200] * 50
    limited = client.get("/empiriolabs/v1/models", headers=H)
    error = error_of(limited, 429, "rate_limit_exceeded")
    assert error["type"] == "rate_limit_error"
    assert int(limited.headers["retry-after"]) > 0
    client.advance(61)
    assert client.get("/empiriolabs/v1/models", headers=H).status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"model=kling-o3", "application/x-www-form-urlencoded"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_400(content: bytes, content_type: str) -> None:
    response = SimClient([SPEC]).post(CREATE, headers={**H, "Content-Type": content_type}, content=content)
    error_of(response, 400, "invalid_request")


def test_unknown_route_and_wrong_method_answer_in_the_envelope() -> None:
    client = SimClient([SPEC])
    error_of(client.get("/empiriolabs/v1/videos/cancel", headers=H), 404, "not_found")
    response = client.request("DELETE", "/empiriolabs/v1/videos/generations", headers=H)
    error_of(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]


def test_unknown_body_fields_are_ignored() -> None:
    response = SimClient([SPEC]).post(CREATE, headers=H, json={**BODY, "webhook_url": "https://x", "seed": 1})
    assert response.status_code == 200


def test_openapi_document_declares_ranges_enums_auth_and_errors() -> None:
    response = SimClient([SPEC]).get("/empiriolabs/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) >= {
        "/v1/videos/generations",
        "/v1/jobs/{job_id}",
        "/v1/account/usage",
        "/v1/models",
    }
    create = doc["paths"]["/v1/videos/generations"]["post"]
    variants = {
        v["title"]: v for v in create["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    }
    assert set(variants) == {"kling-o3", "kling-3-0-turbo"}
    o3 = variants["kling-o3"]["properties"]
    assert (o3["duration"]["minimum"], o3["duration"]["maximum"], o3["duration"]["default"]) == (3, 15, 5)
    assert o3["model_tier"]["enum"] == ["standard", "pro", "4k"] and o3["model_tier"]["default"] == "pro"
    assert o3["workflow"]["enum"] == ["auto", "t2v", "i2v", "video_edit", "reference"]
    assert o3["sound"]["default"] is True
    assert o3["prompt"]["maxLength"] == 2500
    turbo = variants["kling-3-0-turbo"]["properties"]
    assert turbo["resolution"]["enum"] == ["720p", "1080p"] and "sound" not in turbo
    assert set(create["responses"]) >= {"200", "400", "401", "402", "404", "429"}
    assert create["responses"]["429"]["headers"]["Retry-After"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    usage = doc["paths"]["/v1/account/usage"]["get"]
    limit = next(p for p in usage["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
