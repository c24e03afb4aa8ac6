"""fal's model input schemas at their edges: 200 inside, fal's own 422 {"detail": [...]} outside."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kling_auth import fal_headers
from tests.support import SimClient

H = fal_headers()
ROOT = "/fal/fal-ai/kling-video/"
O3_T2V = "o3/standard/text-to-video"
O3_I2V = "o3/pro/image-to-video"
O3_REF = "o3/standard/reference-to-video"
O3_EDIT = "o3/pro/video-to-video/edit"
V3_T2V = "v3/standard/text-to-video"
V3_I2V = "v3/pro/image-to-video"
IMAGE = "https://example.com/a.png"
VIDEO = "https://example.com/a.mp4"


def submit(model: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = SimClient().post(ROOT + model, headers=H, json=body)
    answer = response.json()
    if response.status_code == 422:
        return 422, [tuple(d["loc"]) for d in answer["detail"]]
    return response.status_code, answer.get("status")


OK = (200, "IN_QUEUE")


def bad(field: str) -> tuple[int, list[tuple[str, ...]]]:
    return 422, [("body", field)]


@pytest.mark.parametrize(("duration", "ok"), [("2", False), ("3", True), ("15", True), ("16", False)])
@pytest.mark.parametrize("model", [O3_T2V, V3_T2V])
def test_duration_is_a_string_from_three_to_fifteen(model: str, duration: str, ok: bool) -> None:
    expected = OK if ok else bad("duration")
    assert submit(model, {"prompt": "x", "duration": duration}) == expected


@pytest.mark.parametrize("duration", [5, 5.0, "5.0", "five"])
def test_duration_as_a_number_is_refused(duration: Any) -> None:
    assert submit(O3_T2V, {"prompt": "x", "duration": duration}) == bad("duration")


@pytest.mark.parametrize(("field", "value"), [("aspect_ratio", "4:3"), ("generate_audio", "yes")])
def test_enums_and_types(field: str, value: Any) -> None:
    assert submit(O3_T2V, {"prompt": "x", field: value}) == bad(field)


@pytest.mark.parametrize(("cfg", "ok"), [(-0.01, False), (0, True), (1, True), (1.01, False)])
def test_v3_cfg_scale_range(cfg: float, ok: bool) -> None:
    assert submit(V3_T2V, {"prompt": "x", "cfg_scale": cfg}) == (OK if ok else bad("cfg_scale"))


def test_v3_shot_type_words() -> None:
    assert submit(V3_T2V, {"prompt": "x", "shot_type": "intelligent"}) == OK
    assert submit(V3_T2V, {"prompt": "x", "shot_type": "customize"}) == OK
    assert submit(V3_T2V, {"prompt": "x", "shot_type": "random"}) == bad("shot_type")


@pytest.mark.parametrize(("count", "ok"), [(2, True), (3, False)])
def test_voice_ids_hold_two(count: int, ok: bool) -> None:
    body = {"prompt": "x", "voice_ids": [f"voice_{i}" for i in range(count)]}
    assert submit(V3_T2V, body) == (OK if ok else bad("voice_ids"))


def test_prompt_or_multi_prompt_is_required() -> None:
    assert submit(O3_T2V, {}) == bad("prompt")
    shots = [{"prompt": "one", "duration": "2"}, {"prompt": "two", "duration": "3"}]
    assert submit(O3_T2V, {"multi_prompt": shots}) == OK


def test_image_fields_per_family() -> None:
    assert submit(O3_I2V, {"prompt": "x"}) == bad("image_url")
    assert submit(O3_I2V, {"prompt": "x", "image_url": IMAGE, "end_image_url": IMAGE}) == OK
    assert submit(V3_I2V, {"prompt": "x"}) == bad("start_image_url")
    assert submit(V3_I2V, {"prompt": "x", "start_image_url": IMAGE}) == OK


def test_video_edit_requires_a_video_and_keeps_elements_to_four() -> None:
    assert submit(O3_EDIT, {"prompt": "x"}) == bad("video_url")
    elements = [{"frontal_image_url": IMAGE} for _ in range(4)]
    assert submit(O3_EDIT, {"prompt": "x", "video_url": VIDEO, "elements": elements}) == OK
    assert submit(O3_EDIT, {"prompt": "x", "video_url": VIDEO, "elements": elements * 2})[0] == 422


def test_reference_to_video_takes_images_and_elements() -> None:
    body = {"prompt": "x", "image_urls": [IMAGE, IMAGE], "elements": [{"frontal_image_url": IMAGE}]}
    assert submit(O3_REF, body) == OK
    assert submit(O3_REF, {"prompt": "x", "image_urls": "not-a-list"}) == bad("image_urls")


@pytest.mark.parametrize(("seconds", "ok"), [("3", True), ("10", True), ("15", False)])
def test_a_probeable_edit_source_lasts_three_to_ten_seconds(seconds: str, ok: bool) -> None:
    c = SimClient()
    first = c.post(ROOT + O3_T2V, headers=H, json={"prompt": "x", "duration": seconds}).json()
    c.advance(3600)
    source = c.get(first["response_url"], headers=H).json()["video"]["url"]
    response = c.post(ROOT + O3_EDIT, headers=H, json={"prompt": "x", "video_url": source})
    assert response.status_code == (200 if ok else 422), response.text
