"""Each documented EvoLink error, in its `{"error": {code, message, type, param}}` envelope, and the rules
between fields that answer them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from klingsim.core.http import MAX_BODY_BYTES, Request, Response
from klingsim.providers import evolink
from tests.support import SimClient, bearer

KEY = "sk-evo-errors0123456789"
H = bearer(KEY)
CREATE = "/evolink/v1/videos/generations"
IMG = "https://example.com/a.jpg"
VIDEO = "https://example.com/v.mp4"
MULTI = {
    "multi_shot": True,
    "shot_type": "customize",
    "multi_prompt": [{"index": 1, "prompt": "a", "duration": "5"}],
}


def client() -> SimClient:
    return SimClient([evolink.SPEC])


def error_of(response: Any, status: int, kind: str, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert error["code"] == status and error["type"] == kind and error["message"]
    assert error.get("param") == param
    return error


def invalid(body: Any, param: str | None, **kwargs: Any) -> dict[str, Any]:
    response = client().post(CREATE, headers=H, json=body, **kwargs)
    return error_of(response, 400, "invalid_request_error", param)


# ----------------------------------------------------------------- authentication, funds, lookup
def test_missing_or_malformed_key_is_401() -> None:
    c = client()
    error_of(c.post(CREATE, json={"prompt": "x"}), 401, "authentication_error")
    error_of(
        c.post(CREATE, json={"prompt": "x"}, headers=bearer("sk-wrong-0123456789")),
        401,
        "authentication_error",
    )
    error_of(
        c.get("/evolink/v1/credits", headers={"Authorization": f"Basic {KEY}"}), 401, "authentication_error"
    )


def test_strict_keys_refuse_an_unknown_well_formed_key() -> None:
    c = SimClient([evolink.SPEC], strict_keys=True)
    error_of(c.get("/evolink/v1/credits", headers=H), 401, "authentication_error")


def test_insufficient_credits_is_402_and_reserves_nothing() -> None:
    c = client()
    c.sim.set_balance("evolink", KEY, Decimal("26.9999"))  # a default job costs 27 credits
    error_of(c.post(CREATE, headers=H, json={"prompt": "x"}), 402, "insufficient_quota_error")
    assert c.get("/evolink/v1/credits", headers=H).json()["data"]["user"]["remaining_credits"] == 26.9999
    c.sim.set_balance("evolink", KEY, Decimal(27))
    assert c.post(CREATE, headers=H, json={"prompt": "x"}).status_code == 200
    assert c.get("/evolink/v1/credits", headers=H).json()["data"]["user"]["remaining_credits"] == 0


def test_malformed_task_id_is_400_invalid_task_id_with_a_string_code() -> None:
    response = client().get("/evolink/v1/tasks/12345", headers=H)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_task_id"


def test_unknown_or_foreign_task_is_404() -> None:
    c = client()
    error_of(c.get("/evolink/v1/tasks/task-unified-1757169743-7cvnl5zw", headers=H), 404, "not_found_error")
    task_id = c.post(CREATE, headers=H, json={"prompt": "x"}).json()["id"]
    other = bearer("sk-evo-someoneelse0123")
    error_of(c.get(f"/evolink/v1/tasks/{task_id}", headers=other), 404, "not_found_error")


def test_unknown_route_and_wrong_method() -> None:
    c = client()
    error_of(c.get("/evolink/v1/videos", headers=H), 404, "not_found_error")
    response = c.request("DELETE", "/evolink/v1/credits", headers=H)
    error_of(response, 405, "invalid_request_error")
    assert response.headers["allow"] == "GET"


# ----------------------------------------------------------------- bodies
def test_body_that_is_not_a_json_object_is_400() -> None:
    c = client()
    for content in (b"{", b"", b"[1]", b'"x"'):
        response = c.post(CREATE, headers={**H, "Content-Type": "application/json"}, content=content)
        error_of(response, 400, "invalid_request_error")
    response = c.post(CREATE, headers={**H, "Content-Type": "text/plain"}, content=b'{"prompt": "x"}')
    error_of(response, 400, "invalid_request_error")


def test_oversized_body_is_413() -> None:
    response = client().post(CREATE, headers=H, json={"prompt": "x", "pad": "a" * (MAX_BODY_BYTES + 1)})
    error_of(response, 413, "request_too_large_error")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", "kling-o3-4k"),
        ("sound", True),  # C2: the strings "on"/"off" only
        ("sound", "ON"),
        ("quality", "4k"),
        ("aspect_ratio", "4:3"),
        ("prompt", 42),
        ("callback_url", 7),
        ("model_params", "multi"),
    ],
)
def test_wrong_type_or_value_names_the_field(field: str, value: Any) -> None:
    invalid({"prompt": "x", field: value}, field)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"multi_shot": "true"}, "model_params.multi_shot"),
        ({"watermark_info": {"enabled": "false"}}, "model_params.watermark_info.enabled"),
        ({"watermark_info": {}}, "model_params.watermark_info.enabled"),
        ({"element_list": [{"element_id": "123456"}]}, "model_params.element_list[0].element_id"),
        ({"element_list": [{}]}, "model_params.element_list[0].element_id"),
        ({"multi_shot": True, "shot_type": "intelligent"}, "model_params.shot_type"),  # C8
    ],
)
def test_model_params_are_typed(params: dict[str, Any], param: str) -> None:
    invalid({"prompt": "x", "model_params": params}, param)


@pytest.mark.parametrize(
    "url",
    [
        "http://your-domain.com/webhooks/video-task-completed",
        "https://127.0.0.1/cb",
        "https://10.1.2.3/cb",
        "https://192.168.0.7/cb",
        "https://172.16.0.1/cb",
        "not a url",
    ],
)
def test_callback_url_must_be_public_https(url: str) -> None:
    # "HTTPS only, no internal IPs" (seed); the rules come from the spec's CallbackPolicy
    invalid({"prompt": "x", "callback_url": url}, "callback_url")


# ----------------------------------------------------------------- multi-shot (C7, C8)
@pytest.mark.parametrize("prompt", [None, "", "   "])
def test_prompt_may_be_empty_only_in_customized_multi_shot(prompt: str | None) -> None:
    body: dict[str, Any] = {} if prompt is None else {"prompt": prompt}
    invalid(body, "prompt")
    invalid({**body, "model_params": {"multi_shot": False}}, "prompt")
    assert client().post(CREATE, headers=H, json={**body, "model_params": MULTI}).status_code == 200


def test_multi_shot_needs_shot_type_and_multi_prompt() -> None:
    invalid({"prompt": "x", "model_params": {"multi_shot": True}}, "model_params.shot_type")
    no_prompts = {"multi_shot": True, "shot_type": "customize"}
    invalid({"prompt": "x", "model_params": no_prompts}, "model_params.multi_prompt")


def test_multi_prompt_is_ignored_without_multi_shot() -> None:
    # "Only effective when multi_shot=true" (seed): a mismatching shot list does not fail a single shot
    params = {"multi_prompt": [{"index": 1, "prompt": "a", "duration": "9"}], "shot_type": "customize"}
    assert client().post(CREATE, headers=H, json={"prompt": "x", "model_params": params}).status_code == 200


# ----------------------------------------------------------------- references (inferred, configurable)
def test_element_reference_beyond_the_list_is_400() -> None:
    two = {"element_list": [{"element_id": 1}, {"element_id": 2}]}
    assert (
        client().post(CREATE, headers=H, json={"prompt": "<<<element_2>>>", "model_params": two}).status_code
        == 200
    )
    error = invalid({"prompt": "<<<element_3>>> walks", "model_params": two}, "prompt")
    assert "<<<element_3>>>" in error["message"]
    invalid({"prompt": "<<<element_0>>>", "model_params": two}, "prompt")
    invalid({"prompt": "<<<element_1>>>"}, "prompt")
    shot = {**MULTI, "multi_prompt": [{"index": 1, "prompt": "<<<element_1>>>", "duration": "5"}]}
    invalid({"model_params": shot}, "model_params.multi_prompt[0].prompt")


def test_unknown_references_can_be_allowed() -> None:
    spec = evolink.SPEC.with_settings({"reject_unknown_references": False})
    response = SimClient([spec]).post(CREATE, headers=H, json={"prompt": "<<<element_9>>>"})
    assert response.status_code == 200


def test_image_and_video_references_count_what_the_request_supplies() -> None:
    c = client()
    ok = {
        "model": "kling-o3-reference-to-video",
        "prompt": "<<<image_1>>> in <<<video_1>>>",
        "video_url": VIDEO,
        "image_urls": [IMG],
    }
    assert c.post(CREATE, headers=H, json=ok).status_code == 200
    invalid({**ok, "prompt": "<<<image_2>>>"}, "prompt")
    invalid(
        {"model": "kling-o3-reference-to-video", "prompt": "<<<video_1>>>", "image_urls": [IMG]}, "prompt"
    )


# ----------------------------------------------------------------- sibling models' own rules
def test_image_to_video_frames() -> None:
    c = client()
    i2v = {"model": "kling-o3-image-to-video", "prompt": "x"}
    invalid(i2v, "image_start")  # nothing to animate
    invalid({**i2v, "image_end": IMG}, "image_end")  # a last frame requires a first frame
    assert c.post(CREATE, headers=H, json={**i2v, "image_start": IMG, "image_end": IMG}).status_code == 200
    # first + last + one reference image = 3 images: no last frame then
    invalid({**i2v, "image_start": IMG, "image_end": IMG, "image_urls": [IMG]}, "image_end")
    assert c.post(CREATE, headers=H, json={**i2v, "image_urls": [IMG]}).status_code == 200


def test_reference_to_video_needs_a_video_or_images() -> None:
    invalid({"model": "kling-o3-reference-to-video", "prompt": "x"}, "video_url")


def test_video_edit_needs_a_video() -> None:
    invalid({"model": "kling-o3-video-edit", "prompt": "x"}, "video_url")


# ----------------------------------------------------------------- every catalogue error, as answered
def _always(code: str) -> Any:
    def gate(sim: Any, rt: Any, endpoint: Any, req: Request, account: str) -> Response | None:
        return sim.error(rt, code)  # type: ignore[no-any-return]

    return gate


@pytest.mark.parametrize("error", evolink.SPEC.errors, ids=[e.code for e in evolink.SPEC.errors])
def test_every_catalogue_error_is_answered_in_the_envelope(error: Any) -> None:
    c = client()
    c.sim.gates.append(_always(error.code))
    response = c.post(CREATE, headers=H, json={"prompt": "x"})
    assert response.status_code == error.status
    body = response.json()["error"]
    expected_code = "invalid_task_id" if error.code == "invalid_task_id" else error.status
    assert body["code"] == expected_code and body["type"] == error.type and body["message"]
    if error.retry_after is not None:
        assert response.headers["retry-after"] == str(error.retry_after)
    retry = {"rate_limit_error": "60", "service_unavailable_error": "30"}
    assert response.headers.get("retry-after") == retry.get(error.code)
