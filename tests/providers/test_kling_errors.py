"""Kling's errors: JWT auth (1000-1004), parameters (1200/1201), unknown tasks (1203), balance (1102) and
concurrency (1303), each in the {code, message, request_id} envelope with its HTTP status, costing nothing."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from klingsim.providers import by_id
from tests.kling_auth import ACCESS_KEY, SECRET_KEY, kling_headers, mint
from tests.support import SimClient

T2V = "/kling/v1/videos/text2video"


def assert_error(response: Any, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "request_id"}, body
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]
    assert "detail" not in body


def test_missing_authorization_is_1001() -> None:
    assert_error(SimClient().post(T2V, json={"prompt": "x"}), 401, 1001)
    assert_error(SimClient().post(T2V, headers={"Authorization": ""}, json={"prompt": "x"}), 401, 1001)


def _bad_header(kind: str) -> str:
    now = int(time.time())
    return {
        "not-a-jwt": "Bearer not-a-jwt",
        "three-junk-parts": "Bearer a.b.c",
        "basic": "Basic QUs6U0s=",
        "hs512": f"Bearer {mint(alg='HS512')}",
        "no-iss": f"Bearer {mint(claims={'exp': now + 600, 'nbf': now - 5})}",
    }[kind]


@pytest.mark.parametrize("kind", ["not-a-jwt", "three-junk-parts", "basic", "hs512", "no-iss"])
def test_a_token_that_is_not_a_kling_jwt_is_1002(kind: str) -> None:
    response = SimClient().post(T2V, headers={"Authorization": _bad_header(kind)}, json={"prompt": "x"})
    assert_error(response, 401, 1002)


def test_a_token_not_yet_valid_is_1003() -> None:
    response = SimClient().post(T2V, headers=kling_headers(nbf_in=120), json={"prompt": "x"})
    assert_error(response, 401, 1003)


def test_an_expired_token_is_1004() -> None:
    response = SimClient().post(T2V, headers=kling_headers(exp_in=-120), json={"prompt": "x"})
    assert_error(response, 401, 1004)


def test_token_times_have_a_leeway_of_five_seconds() -> None:
    client = SimClient()
    assert client.post(T2V, headers=kling_headers(exp_in=-2), json={"prompt": "x"}).status_code == 200
    assert client.post(T2V, headers=kling_headers(nbf_in=2), json={"prompt": "x"}).status_code == 200


def test_token_times_are_judged_on_the_wall_clock_even_on_a_virtual_one() -> None:
    client = SimClient()
    client.advance(7200)  # the virtual clock moves two hours; a freshly minted token stays valid
    assert client.post(T2V, headers=kling_headers(), json={"prompt": "x"}).status_code == 200


def test_a_tampered_signature_is_1000_once_the_secret_is_known() -> None:
    client = SimClient()
    assert client.post(T2V, headers=kling_headers(), json={"prompt": "x"}).status_code == 200
    token = mint()
    head, claims, signature = token.split(".")
    forged = f"{head}.{claims}.{'A' * len(signature)}"
    # Without --strict-keys an unseen key is trusted (so examples work); a registered secret is checked.
    client.request(
        "PUT", f"/_klingsim/accounts/kling/{ACCESS_KEY}", json={"balance": 100, "secret_key": SECRET_KEY}
    )
    assert_error(
        client.post(T2V, headers={"Authorization": f"Bearer {forged}"}, json={"prompt": "x"}), 401, 1000
    )


def test_strict_keys_refuse_unknown_access_keys_and_always_verify() -> None:
    client = SimClient(strict_keys=True)
    assert_error(client.post(T2V, headers=kling_headers(), json={"prompt": "x"}), 401, 1000)
    client.request(
        "PUT", f"/_klingsim/accounts/kling/{ACCESS_KEY}", json={"balance": 100, "secret_key": SECRET_KEY}
    )
    assert client.post(T2V, headers=kling_headers(), json={"prompt": "x"}).status_code == 200
    assert_error(client.post(T2V, headers=kling_headers(secret_key="wrong"), json={"prompt": "x"}), 401, 1000)


@pytest.mark.parametrize(
    ("content", "ctype"),
    [(b"{not json", "application/json"), (b"", "application/json"), (b"[1, 2]", "application/json")],
)
def test_a_body_that_is_not_a_json_object_is_1200(content: bytes, ctype: str) -> None:
    response = SimClient().post(T2V, headers={**kling_headers(), "Content-Type": ctype}, content=content)
    assert_error(response, 400, 1200)


@pytest.mark.parametrize(
    "body",
    [
        {},  # prompt is required
        {"prompt": 5},
        {"prompt": "x", "duration": 5},
        {"prompt": "x", "model_name": "kling-v9"},
        {"prompt": "x", "mode": "max"},
        {"prompt": "x", "callback_url": "not a url"},
        {"prompt": "x", "watermark_info": {"enabled": "yes"}},
    ],
)
def test_parameter_problems_are_1201(body: dict[str, Any]) -> None:
    assert_error(SimClient().post(T2V, headers=kling_headers(), json=body), 400, 1201)


def test_invalid_requests_charge_nothing() -> None:
    client = SimClient()
    client.post(T2V, headers=kling_headers(), json={"prompt": "x", "duration": "7"})
    pack = client.get("/kling/account/costs", headers=kling_headers()).json()["data"][
        "resource_pack_subscribe_infos"
    ][0]
    assert pack["remaining_quantity"] == 1000


def test_unknown_task_is_404_1203_and_a_task_of_another_kind_is_not_found() -> None:
    client = SimClient()
    assert_error(
        client.get("/kling/v1/videos/text2video/123456789012345678", headers=kling_headers()), 404, 1203
    )
    created = client.post(T2V, headers=kling_headers(), json={"prompt": "x"}).json()["data"]["task_id"]
    assert_error(client.get(f"/kling/v1/videos/image2video/{created}", headers=kling_headers()), 404, 1203)
    assert_error(client.get(f"/kling/v1/videos/omni-video/{created}", headers=kling_headers()), 404, 1203)


def test_another_accounts_task_is_not_found() -> None:
    client = SimClient()
    created = client.post(T2V, headers=kling_headers(), json={"prompt": "x"}).json()["data"]["task_id"]
    other = kling_headers(access_key="AKanotheraccount0000000000000001")
    assert_error(client.get(f"/kling/v1/videos/text2video/{created}", headers=other), 404, 1203)


def test_an_unknown_path_is_404_in_the_envelope() -> None:
    response = SimClient().get("/kling/v1/images/nothing-here", headers=kling_headers())
    assert response.status_code == 404 and response.json()["code"] in (1202, 1203)
    assert "detail" not in response.json()


def test_a_depleted_pack_is_429_1102_and_charges_nothing() -> None:
    client = SimClient()
    client.request("PUT", f"/_klingsim/accounts/kling/{ACCESS_KEY}", json={"balance": 1})
    assert client.post(T2V, headers=kling_headers(), json={"prompt": "x"}).status_code == 200  # costs 1 unit
    assert_error(client.post(T2V, headers=kling_headers(), json={"prompt": "x"}), 429, 1102)
    pack = client.get("/kling/account/costs", headers=kling_headers()).json()["data"][
        "resource_pack_subscribe_infos"
    ][0]
    assert pack["remaining_quantity"] == 0 and pack["status"] == "runOut"


def test_more_unfinished_tasks_than_the_concurrency_is_429_1303() -> None:
    client = SimClient()
    for i in range(5):
        assert client.post(T2V, headers=kling_headers(), json={"prompt": f"{i}"}).status_code == 200
    assert_error(client.post(T2V, headers=kling_headers(), json={"prompt": "sixth"}), 429, 1303)
    # Queries use no slot; another account has its own.
    other = kling_headers(access_key="AKanotheraccount0000000000000001")
    assert client.post(T2V, headers=other, json={"prompt": "x"}).status_code == 200
    client.advance(3600)  # every task ended: the slots are free again
    assert client.post(T2V, headers=kling_headers(), json={"prompt": "seventh"}).status_code == 200


def test_the_concurrency_is_a_setting() -> None:
    spec = by_id("kling").with_settings({"max_concurrent_tasks": 1})
    client = SimClient([spec])
    assert client.post(T2V, headers=kling_headers(), json={"prompt": "x"}).status_code == 200
    assert_error(client.post(T2V, headers=kling_headers(), json={"prompt": "x"}), 429, 1303)


def test_the_prompt_marker_fails_the_task_with_the_content_policy_word() -> None:
    client = SimClient()
    body = {"prompt": "a cat [klingsim:fail=1301]"}
    task_id = client.post(T2V, headers=kling_headers(), json=body).json()["data"]["task_id"]
    client.advance(3600)
    answer = client.get(f"/kling/v1/videos/text2video/{task_id}", headers=kling_headers()).json()
    assert answer["code"] == 0 and answer["message"] == "SUCCEED"  # the query itself succeeded
    assert answer["data"]["task_status"] == "failed" and answer["data"]["task_status_msg"]
    assert "task_result" not in answer["data"] or not answer["data"]["task_result"].get("videos")


def test_jwt_payload_is_decoded_strictly() -> None:
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(["not", "an", "object"]).encode()).rstrip(b"=").decode()
    response = SimClient().post(
        T2V, headers={"Authorization": f"Bearer {head}.{body}.sig"}, json={"prompt": "x"}
    )
    assert_error(response, 401, 1002)


def test_a_wrong_method_is_404_1202_invalid_method() -> None:
    response = SimClient().request("DELETE", T2V, headers=kling_headers())
    assert_error(response, 404, 1202)
