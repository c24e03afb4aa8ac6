"""EvoLink's ranges and list limits at min-1, min, max and max+1, for every model that has them."""

from __future__ import annotations

from typing import Any

import pytest

from klingsim.providers import evolink
from tests.support import SimClient, bearer

H = bearer("sk-evo-bounds0123456789")
T2V, I2V, REF, EDIT = evolink.SPEC.models
IMG = "https://example.com/a.jpg"
VIDEO = "https://example.com/v.mp4"


def post(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = SimClient([evolink.SPEC]).post("/evolink/v1/videos/generations", headers=H, json=body)
    data: dict[str, Any] = response.json()
    return response.status_code, data


def assert_invalid(body: dict[str, Any], param: str) -> None:
    status, data = post(body)
    assert status == 400, data
    assert data["error"]["code"] == 400 and data["error"]["type"] == "invalid_request_error"
    assert data["error"]["param"] == param


def shots(n: int, each: int = 1) -> list[dict[str, Any]]:
    return [{"index": i + 1, "prompt": f"shot {i + 1}", "duration": str(each)} for i in range(n)]


def elements(n: int) -> list[dict[str, int]]:
    return [{"element_id": 1000 + i} for i in range(n)]


BASE = {
    T2V: {"model": T2V, "prompt": "x"},
    I2V: {"model": I2V, "prompt": "x", "image_start": IMG},
    REF: {"model": REF, "prompt": "x", "video_url": VIDEO},
}


@pytest.mark.parametrize(
    ("model", "low", "high"), [(T2V, 3, 15), (I2V, 3, 15), (REF, 3, 10)], ids=["t2v", "i2v", "ref"]
)
def test_duration_range_per_model(model: str, low: int, high: int) -> None:
    for ok in (low, high):
        status, data = post({**BASE[model], "duration": ok})
        assert status == 200, data
        assert data["task_info"]["video_duration"] == ok
    for bad in (low - 1, high + 1):
        assert_invalid({**BASE[model], "duration": bad}, "duration")


@pytest.mark.parametrize("value", [5.5, "5", True, None])
def test_duration_must_be_an_integer(value: Any) -> None:
    assert_invalid({"prompt": "x", "duration": value}, "duration")


@pytest.mark.parametrize("model", [T2V, I2V, REF, EDIT])
def test_prompt_length_2500(model: str) -> None:
    base = BASE.get(model, {"model": EDIT, "video_url": VIDEO})
    assert post({**base, "prompt": "é" * 2500})[0] == 200  # code points, not bytes
    assert_invalid({**base, "prompt": "x" * 2501}, "prompt")


def test_multi_prompt_at_most_6_shots() -> None:
    params: dict[str, Any] = {"multi_shot": True, "shot_type": "customize"}
    assert post({"duration": 6, "model_params": {**params, "multi_prompt": shots(6)}})[0] == 200
    assert post({"duration": 3, "model_params": {**params, "multi_prompt": shots(1, 3)}})[0] == 200
    for bad in (shots(7), []):
        body = {"duration": 7, "model_params": {**params, "multi_prompt": bad}}
        assert_invalid(body, "model_params.multi_prompt")


def test_element_list_at_most_7() -> None:
    assert post({"prompt": "<<<element_7>>>", "model_params": {"element_list": elements(7)}})[0] == 200
    eight = {"element_list": elements(8)}
    assert_invalid({"prompt": "x", "model_params": eight}, "model_params.element_list")


def test_image_to_video_reference_images_at_most_7() -> None:
    body = {"model": I2V, "prompt": "x"}
    assert post({**body, "image_urls": [IMG] * 7})[0] == 200
    assert_invalid({**body, "image_urls": [IMG] * 8}, "image_urls")


@pytest.mark.parametrize("model", [REF, EDIT])
def test_images_plus_elements_at_most_4_with_a_video(model: str) -> None:
    body = {"model": model, "prompt": "x", "video_url": VIDEO}
    assert post({**body, "image_urls": [IMG] * 4})[0] == 200
    assert post({**body, "image_urls": [IMG] * 2, "model_params": {"element_list": elements(2)}})[0] == 200
    assert_invalid({**body, "image_urls": [IMG] * 5}, "image_urls")
    two = {"element_list": elements(2)}
    assert_invalid({**body, "image_urls": [IMG] * 3, "model_params": two}, "image_urls")


def test_reference_to_video_without_a_video_takes_up_to_7_images() -> None:
    body = {"model": REF, "prompt": "x"}
    assert post({**body, "image_urls": [IMG] * 7})[0] == 200
    assert_invalid({**body, "image_urls": [IMG] * 8}, "image_urls")


def test_callback_url_at_most_2048_characters() -> None:
    stem = "https://example.com/"
    assert post({"prompt": "x", "callback_url": stem + "a" * (2048 - len(stem))})[0] == 200
    assert_invalid({"prompt": "x", "callback_url": stem + "a" * (2049 - len(stem))}, "callback_url")


def test_callback_policy_is_the_seeds() -> None:
    policy = evolink.SPEC.callbacks
    assert policy is not None
    assert (policy.field, policy.https_only, policy.refuse_private, policy.max_length) == (
        "callback_url",
        True,
        True,
        2048,
    )
    assert policy.timeout_seconds == 10 and policy.retry_delays == (1, 2, 4)


def test_multi_shot_durations_must_sum_to_duration() -> None:
    params: dict[str, Any] = {"multi_shot": True, "shot_type": "customize"}
    assert post({"duration": 12, "model_params": {**params, "multi_prompt": shots(4, 3)}})[0] == 200
    for total in (11, 13):
        # shots adding up to 12 s against duration 11 or 13: strict, not "should" (C7)
        body = {"duration": total, "model_params": {**params, "multi_prompt": shots(4, 3)}}
        assert_invalid(body, "model_params.multi_prompt")


@pytest.mark.parametrize("duration", ["0", "2.5", "five", "-1", ""])
def test_shot_duration_is_a_string_of_whole_seconds(duration: str) -> None:
    shot = [{"index": 1, "prompt": "a", "duration": duration}]
    params = {"multi_shot": True, "shot_type": "customize", "multi_prompt": shot}
    assert_invalid({"duration": 5, "model_params": params}, "model_params.multi_prompt[0].duration")


def test_shot_duration_as_a_number_is_refused() -> None:
    shot = [{"index": 1, "prompt": "a", "duration": 5}]
    params = {"multi_shot": True, "shot_type": "customize", "multi_prompt": shot}
    assert_invalid({"duration": 5, "model_params": params}, "model_params.multi_prompt[0].duration")
