"""EmpirioLabs ranges and list limits at min-1, min, max and max+1, and the type rules of C3 and C21."""

from __future__ import annotations

from typing import Any

import pytest

from klingsim.providers.empiriolabs import SPEC
from tests.support import SimClient, bearer

H = bearer("sk-empiriolabs-bounds0123456789")
CREATE = "/empiriolabs/v1/videos/generations"
O3 = {"model": "kling-o3", "prompt": "A lighthouse at dusk"}
TURBO = {"model": "kling-3-0-turbo", "prompt": "A lighthouse at dusk"}


def post(body: dict[str, Any], client: SimClient | None = None) -> tuple[int, dict[str, Any]]:
    response = (client or SimClient([SPEC])).post(CREATE, headers=H, json=body)
    data: dict[str, Any] = response.json()
    return response.status_code, data


def refused(body: dict[str, Any], param: str) -> None:
    status, data = post(body)
    assert status == 400, data
    assert data["error"]["code"] == "invalid_request"
    assert data["error"]["type"] == "invalid_request_error"
    assert data["error"]["param"] == param


def stored(body: dict[str, Any]) -> dict[str, Any]:
    client = SimClient([SPEC])
    status, data = post(body, client)
    assert status == 200, data
    job = client.sim.engine.get("empiriolabs", data["job_id"])
    assert job is not None
    return job.request


@pytest.mark.parametrize("base", [O3, TURBO], ids=["kling-o3", "turbo"])
@pytest.mark.parametrize(("duration", "ok"), [(2, False), (3, True), (15, True), (16, False)])
def test_duration_is_three_to_fifteen(base: dict[str, Any], duration: int, ok: bool) -> None:
    if ok:
        assert stored({**base, "duration": duration})["duration"] == duration
    else:
        refused({**base, "duration": duration}, "duration")


@pytest.mark.parametrize("base", [O3, TURBO], ids=["kling-o3", "turbo"])
@pytest.mark.parametrize(("sent", "kept"), [(7.0, 7), ("7", 7), ("7.0", 7)])
def test_duration_accepts_integral_numbers_and_integer_strings(
    base: dict[str, Any], sent: Any, kept: int
) -> None:
    """C3: the pages say "number"; integral values and their strings are accepted and stored as integers."""
    value = stored({**base, "duration": sent})["duration"]
    assert value == kept and isinstance(value, int)


@pytest.mark.parametrize("base", [O3, TURBO], ids=["kling-o3", "turbo"])
@pytest.mark.parametrize("sent", [5.5, "5.5", "five", True, None, [5]])
def test_duration_refuses_fractions_and_non_numbers(base: dict[str, Any], sent: Any) -> None:
    refused({**base, "duration": sent}, "duration")


@pytest.mark.parametrize(("count", "ok"), [(5, True), (6, True), (7, False)])
@pytest.mark.parametrize("separator", [" | ", "\n"])
def test_prompt_has_at_most_six_scenes(count: int, ok: bool, separator: str) -> None:
    prompt = separator.join(f"scene {i}" for i in range(count))
    if ok:
        stored({**O3, "prompt": prompt, "duration": 15})
    else:
        refused({**O3, "prompt": prompt, "duration": 15}, "prompt")


@pytest.mark.parametrize("base", [O3, TURBO], ids=["kling-o3", "turbo"])
@pytest.mark.parametrize(("length", "ok"), [(1, True), (2500, True), (2501, False)])
def test_prompt_is_one_to_2500_characters(base: dict[str, Any], length: int, ok: bool) -> None:
    prompt = "a" * length
    if ok:
        assert stored({**base, "prompt": prompt})["prompt"] == prompt
    else:
        refused({**base, "prompt": prompt}, "prompt")


@pytest.mark.parametrize("base", [O3, TURBO], ids=["kling-o3", "turbo"])
@pytest.mark.parametrize("prompt", ["", "   ", None])
def test_prompt_is_required_and_not_blank(base: dict[str, Any], prompt: Any) -> None:
    refused({**base, "prompt": prompt}, "prompt")
    refused({k: v for k, v in base.items() if k != "prompt"}, "prompt")


@pytest.mark.parametrize("prompt", ["|", " | \n |"])
def test_a_prompt_of_separators_only_has_no_scene(prompt: str) -> None:
    refused({**O3, "prompt": prompt}, "prompt")


@pytest.mark.parametrize(
    ("prompt", "ok"),
    [
        ("7s: A | 8s: B", True),
        ("7s: A | 9s: B", False),
        ("14s: A | 1s: B", True),
        ("15s: A | 0.5s: B", False),
    ],
)
def test_scene_total_is_at_most_fifteen_and_each_scene_at_least_one_second(prompt: str, ok: bool) -> None:
    """C4: 400 when the total exceeds 15 s or a scene is under 1 s."""
    if ok:
        stored({**O3, "prompt": prompt})
    else:
        refused({**O3, "prompt": prompt}, "prompt")


@pytest.mark.parametrize(("duration", "ok"), [(5, False), (6, True)])
def test_six_unprefixed_scenes_need_six_seconds_to_share(duration: int, ok: bool) -> None:
    prompt = " | ".join("scene" for _ in range(6))
    if ok:
        stored({**O3, "prompt": prompt, "duration": duration})
    else:
        refused({**O3, "prompt": prompt, "duration": duration}, "prompt")


@pytest.mark.parametrize(("name", "limit"), [("reference_images", 7), ("reference_videos", 1)])
@pytest.mark.parametrize("extra", [0, 1])
def test_reference_lists_have_a_limit(name: str, limit: int, extra: int) -> None:
    urls = [f"https://example.com/{i}.png" for i in range(limit + extra)]
    body = {**O3, "workflow": "reference", name: ",".join(urls)}
    if extra:
        refused(body, name)
    else:
        assert stored(body)[name] == ",".join(urls)


def test_reference_lists_accept_arrays_leniently_and_refuse_empty_items() -> None:
    """C21: comma-separated strings on the page; an array of URLs is joined into one."""
    urls = ["https://example.com/a.png", "https://example.com/b.png"]
    assert stored({**O3, "reference_images": urls})["reference_images"] == ",".join(urls)
    refused(
        {**O3, "reference_images": "https://example.com/a.png,,https://example.com/b.png"}, "reference_images"
    )
    refused({**O3, "reference_images": [1, 2]}, "reference_images")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model_tier", "ultra"),
        ("model_tier", "Pro"),
        ("workflow", "text"),
        ("aspect_ratio", "4:3"),
        ("sound", "true"),
        ("keep_original_sound", 1),
    ],
)
def test_kling_o3_enums_and_booleans_are_strict(field: str, value: Any) -> None:
    refused({**O3, field: value}, field)


@pytest.mark.parametrize(
    ("field", "value"), [("resolution", "4k"), ("resolution", "1080"), ("aspect_ratio", "4:3")]
)
def test_turbo_enums_are_strict(field: str, value: Any) -> None:
    refused({**TURBO, field: value}, field)


@pytest.mark.parametrize(
    ("body", "workflow"),
    [
        ({}, "t2v"),
        ({"image": "https://example.com/a.png"}, "i2v"),
        ({"image": "https://example.com/a.png", "image_end": "https://example.com/b.png"}, "i2v"),
        ({"reference_images": "https://example.com/a.png"}, "reference"),
        ({"video": "https://example.com/a.mp4"}, "video_edit"),
        ({"video": "https://example.com/a.mp4", "image": "https://example.com/a.png"}, "video_edit"),
    ],
)
def test_auto_workflow_is_detected_from_the_inputs(body: dict[str, Any], workflow: str) -> None:
    client = SimClient([SPEC])
    status, data = post({**O3, **body}, client)
    assert status == 200, data
    job = client.sim.engine.get("empiriolabs", data["job_id"])
    assert job is not None and job.plan.extra["workflow"] == workflow


@pytest.mark.parametrize(
    ("workflow", "param"), [("i2v", "image"), ("video_edit", "video"), ("reference", "reference_images")]
)
def test_explicit_workflows_require_their_inputs(workflow: str, param: str) -> None:
    refused({**O3, "workflow": workflow}, param)


@pytest.mark.parametrize("workflow", ["auto", "t2v", "i2v"])
def test_image_end_without_image_is_refused(workflow: str) -> None:
    body = {**O3, "workflow": workflow, "image_end": "https://example.com/b.png"}
    refused(body, "image" if workflow == "i2v" else "image_end")


@pytest.mark.parametrize("field", ["video", "reference_videos"])
def test_4k_refuses_video_inputs(field: str) -> None:
    """Decision 4 / C22: "Kling O3 4K supports text, image, and image-only reference workflows"."""
    refused({**O3, "model_tier": "4k", field: "https://example.com/a.mp4"}, field)
    assert (
        stored({**O3, "model_tier": "standard", field: "https://example.com/a.mp4"})["model_tier"]
        == "standard"
    )


def test_4k_takes_image_only_references() -> None:
    assert (
        stored({**O3, "model_tier": "4k", "reference_images": "https://example.com/a.png"})["model_tier"]
        == "4k"
    )


def test_turbo_image_may_be_a_url_or_base64() -> None:
    for image in (
        "https://example.com/a.png",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==",
    ):
        assert stored({**TURBO, "image": image})["image"] == image


@pytest.mark.parametrize(
    ("limit", "ok"), [("0", False), ("1", True), ("100", True), ("101", False), ("x", False)]
)
def test_usage_limit_is_one_to_a_hundred(limit: str, ok: bool) -> None:
    client = SimClient([SPEC])
    response = client.get("/empiriolabs/v1/account/usage", params={"limit": limit}, headers=H)
    if ok:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "limit"
