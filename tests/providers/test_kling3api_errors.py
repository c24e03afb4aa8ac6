"""Every error of kling3api's table is reachable over HTTP, with its status, code and envelope."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import SimClient, bearer

KEY = "k3a_test_0123456789abcdef"
H = bearer(KEY)
T2V = {"type": "pro-text-to-video", "prompt": "mountains"}


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["error"] == code and body["data"] is None
    assert isinstance(body["message"], str) and body["message"]
    assert "detail" not in body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**T2V, "prompt": ""}, "INVALID_PROMPT"),
        ({**T2V, "prompt": "   "}, "INVALID_PROMPT"),
        ({"type": "pro-text-to-video"}, "INVALID_PROMPT"),
        ({**T2V, "prompt": "x" * 2001}, "INVALID_PROMPT"),
        ({**T2V, "prompt": 42}, "INVALID_PROMPT"),
        ({**T2V, "duration": 2}, "INVALID_DURATION"),
        ({**T2V, "duration": 16}, "INVALID_DURATION"),
        ({**T2V, "duration": 5.5}, "INVALID_DURATION"),
        ({**T2V, "duration": "5"}, "INVALID_DURATION"),
        ({**T2V, "duration": True}, "INVALID_DURATION"),
        ({**T2V, "type": "pro-text-to-vid"}, "INVALID_TYPE"),
        ({**T2V, "type": "PRO-TEXT-TO-VIDEO"}, "INVALID_TYPE"),
        ({"prompt": "x"}, "INVALID_TYPE"),
        ({"type": "pro-image-to-video", "prompt": "x"}, "MISSING_IMAGE"),
        ({"type": "o3-std-image-to-video", "prompt": "x", "image": ""}, "MISSING_IMAGE"),
        ({"type": "o3-pro-video-edit", "prompt": "x"}, "MISSING_VIDEO"),
        ({"type": "o3-std-video-edit", "prompt": "x", "images": ["https://e.com/a.jpg"]}, "MISSING_VIDEO"),
        ({**T2V, "aspect_ratio": "4:3"}, "INVALID_REQUEST"),
        ({**T2V, "sound": "true"}, "INVALID_REQUEST"),
        ({**T2V, "images": ["https://e.com/a.jpg"] * 8}, "INVALID_REQUEST"),
        ({**T2V, "cfg_scale": 1.5}, "INVALID_REQUEST"),
    ],
)
def test_invalid_bodies_get_the_documented_code(body: dict[str, Any], code: str) -> None:
    assert_error(SimClient().post("/kling3api/api/generate", headers=H, json=body), 400, code)


def test_invalid_requests_charge_nothing() -> None:
    client = SimClient()
    client.sim.set_balance("kling3api", KEY, 1000)  # type: ignore[arg-type]
    client.post("/kling3api/api/generate", headers=H, json={**T2V, "duration": 99})
    assert client.sim.ledger.balance("kling3api", KEY) == 1000


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer x"},
        {"Authorization": "Token k3a_test_0123456789abcdef"},
    ],
    ids=["missing", "empty-bearer", "basic", "too-short", "wrong-scheme"],
)
def test_missing_or_malformed_keys_get_invalid_api_key(headers: dict[str, str]) -> None:
    assert_error(
        SimClient().post("/kling3api/api/generate", headers=headers, json=T2V), 401, "INVALID_API_KEY"
    )
    assert_error(
        SimClient().get("/kling3api/api/status", headers=headers, params={"task_id": "n75x"}),
        401,
        "INVALID_API_KEY",
    )


def test_strict_keys_refuse_keys_not_created_on_the_control_plane() -> None:
    client = SimClient(strict_keys=True)
    assert_error(client.post("/kling3api/api/generate", headers=H, json=T2V), 401, "INVALID_API_KEY")
    assert (
        client.request("PUT", f"/_klingsim/accounts/kling3api/{KEY}", json={"balance": 500}).status_code
        == 200
    )
    assert client.post("/kling3api/api/generate", headers=H, json=T2V).status_code == 200


def test_insufficient_credits_is_a_402_that_charges_nothing() -> None:
    client = SimClient()
    client.request("PUT", f"/_klingsim/accounts/kling3api/{KEY}", json={"balance": 399})
    assert_error(client.post("/kling3api/api/generate", headers=H, json=T2V), 402, "INSUFFICIENT_CREDITS")
    account = client.get(f"/_klingsim/accounts/kling3api/{KEY}").json()
    assert account["balance"] == 399
    assert [e["kind"] for e in account["entries"]] == ["topup"]
    # Exactly the price is enough, and the balance reaches zero, never below.
    client.request("PUT", f"/_klingsim/accounts/kling3api/{KEY}", json={"balance": 400})
    assert client.post("/kling3api/api/generate", headers=H, json=T2V).status_code == 200
    assert client.get(f"/_klingsim/accounts/kling3api/{KEY}").json()["balance"] == 0
    assert_error(client.post("/kling3api/api/generate", headers=H, json=T2V), 402, "INSUFFICIENT_CREDITS")


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b"{", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b"type=pro", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/json"),
        (b"[" * 100_000, "application/json"),
    ],
    ids=["truncated", "empty", "array", "string", "form", "not-utf8", "deep-nesting"],
)
def test_unparseable_bodies_answer_in_the_envelope(content: bytes, ctype: str) -> None:
    response = SimClient().post(
        "/kling3api/api/generate", headers={**H, "content-type": ctype}, content=content
    )
    assert_error(response, 400, "INVALID_REQUEST")


def test_bodies_over_one_mebibyte_are_refused_in_the_envelope() -> None:
    response = SimClient().post(
        "/kling3api/api/generate",
        headers={**H, "content-type": "application/json"},
        content=b'{"prompt": "' + b"x" * (1024 * 1024) + b'"}',
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_unknown_routes_and_wrong_methods_answer_in_the_envelope() -> None:
    client = SimClient()
    assert_error(client.get("/kling3api/api/nothing", headers=H), 404, "NOT_FOUND")
    wrong = client.get("/kling3api/api/generate", headers=H)
    assert_error(wrong, 405, "METHOD_NOT_ALLOWED")
    assert wrong.headers["allow"] == "POST"
    assert_error(client.request("DELETE", "/kling3api/api/status", headers=H), 405, "METHOD_NOT_ALLOWED")


def test_status_without_task_id_and_unknown_ids() -> None:
    client = SimClient()
    assert_error(client.get("/kling3api/api/status", headers=H), 400, "INVALID_REQUEST")
    assert_error(
        client.get("/kling3api/api/status", headers=H, params={"task_id": "n75000000000000"}),
        404,
        "NOT_FOUND",
    )
    assert_error(client.get("/kling3api/api/status", headers=H, params={"task_id": "abc"}), 404, "NOT_FOUND")


def test_another_key_cannot_see_a_task() -> None:
    client = SimClient()
    task_id = client.post("/kling3api/api/generate", headers=H, json=T2V).json()["data"]["task_id"]
    other = bearer("k3a_other_0123456789abcdef")
    assert_error(
        client.get("/kling3api/api/status", headers=other, params={"task_id": task_id}), 404, "NOT_FOUND"
    )


def test_rate_limited_and_internal_error_are_declared_with_their_statuses() -> None:
    from klingsim.providers.kling3api import SPEC

    assert SPEC.error("RATE_LIMITED").status == 429 and SPEC.error("RATE_LIMITED").retry_after is not None
    assert SPEC.error("INTERNAL_ERROR").status == 500
    client = SimClient()
    limited = client.sim.error(client.sim.runtimes["kling3api"], "RATE_LIMITED")
    assert limited.status == 429 and ("retry-after", "60") in limited.headers
