"""Every range and list limit of kling3api at min-1, min, max and max+1."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import SimClient, bearer

H = bearer("k3a_test_0123456789abcdef")
REF = {"type": "o3-std-reference-to-video", "prompt": "a city", "images": ["https://e.com/a.jpg"]}


def create(body: dict[str, Any]) -> tuple[int, str | None]:
    response = SimClient().post("/kling3api/api/generate", headers=H, json=body)
    return response.status_code, response.json().get("error")


@pytest.mark.parametrize(("duration", "accepted"), [(2, False), (3, True), (15, True), (16, False)])
@pytest.mark.parametrize(
    "task", ["pro-text-to-video", "std-text-to-video", "o3-pro-text-to-video", "o3-std-reference-to-video"]
)
def test_duration_range(task: str, duration: int, accepted: bool) -> None:
    body: dict[str, Any] = {"type": task, "prompt": "x", "duration": duration}
    if "reference" in task:
        body["images"] = ["https://e.com/a.jpg"]
    assert create(body) == ((200, None) if accepted else (400, "INVALID_DURATION"))


@pytest.mark.parametrize(("length", "accepted"), [(0, False), (1, True), (2000, True), (2001, False)])
def test_prompt_length(length: int, accepted: bool) -> None:
    body = {"type": "std-text-to-video", "prompt": "é" * length}
    assert create(body) == ((200, None) if accepted else (400, "INVALID_PROMPT"))


@pytest.mark.parametrize(("count", "accepted"), [(1, True), (7, True), (8, False)])
def test_reference_images_max_seven(count: int, accepted: bool) -> None:
    body = {**REF, "images": [f"https://e.com/{i}.jpg" for i in range(count)]}
    assert create(body) == ((200, None) if accepted else (400, "INVALID_REQUEST"))


@pytest.mark.parametrize(("value", "accepted"), [(-0.01, False), (0, True), (1, True), (1.01, False)])
def test_prompt_adherence_range(value: float, accepted: bool) -> None:
    body = {"type": "pro-text-to-video", "prompt": "x", "cfg_scale": value}
    assert create(body) == ((200, None) if accepted else (400, "INVALID_REQUEST"))


def test_reference_to_video_needs_images_or_a_video() -> None:
    assert create({"type": "o3-pro-reference-to-video", "prompt": "x"}) == (400, "MISSING_IMAGE")
    assert create({"type": "o3-pro-reference-to-video", "prompt": "x", "images": []}) == (
        400,
        "MISSING_IMAGE",
    )
    assert create({"type": "o3-pro-reference-to-video", "prompt": "x", "video": "https://e.com/v.mp4"}) == (
        200,
        None,
    )
