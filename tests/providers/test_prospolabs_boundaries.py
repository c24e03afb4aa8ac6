"""Every range and list limit of Prospolabs at min-1, min, max and max+1."""

from __future__ import annotations

import json
from typing import Any

import pytest

from klingsim.providers.prospolabs import SPEC
from tests.support import SimClient, bearer

H = bearer("prsp-0123456789abcdef")
BASE = {"model": "kling-o3", "prompt": "a fox in the snow"}


def create(body: dict[str, Any]) -> tuple[int, str]:
    response = SimClient([SPEC]).post("/prospolabs/v1/generate", headers=H, json=body)
    answer = response.json()
    return response.status_code, answer.get("status") or answer["code"]


OK = (200, "completed")
BAD = (400, "invalid_request")


@pytest.mark.parametrize(("duration", "expected"), [(2, BAD), (3, OK), (15, OK), (16, BAD)])
def test_duration_range(duration: int, expected: tuple[int, str]) -> None:
    assert create({**BASE, "duration": duration}) == expected


@pytest.mark.parametrize(
    ("duration", "expected"), [("5", OK), (5.0, OK), (5.5, BAD), ("5.5", BAD), ("five", BAD)]
)
def test_duration_takes_whole_numbers_and_integer_strings(duration: Any, expected: tuple[int, str]) -> None:
    assert create({**BASE, "duration": duration}) == expected


@pytest.mark.parametrize(("length", "expected"), [(0, BAD), (1, OK), (2500, OK), (2501, BAD)])
def test_prompt_length(length: int, expected: tuple[int, str]) -> None:
    assert create({**BASE, "prompt": "é" * length}) == expected


def shots(*durations: Any) -> list[dict[str, Any]]:
    return [{"prompt": f"shot {i}", "duration": d} for i, d in enumerate(durations)]


@pytest.mark.parametrize(("count", "expected"), [(1, OK), (6, OK), (7, BAD)])
def test_multi_prompt_holds_at_most_six_shots(count: int, expected: tuple[int, str]) -> None:
    assert create({**BASE, "multi_prompt": shots(*[2] * (count - 1), 3)}) == expected


@pytest.mark.parametrize(
    ("durations", "expected"), [((1, 1), BAD), ((1, 2), OK), ((10, 5), OK), ((10, 6), BAD)]
)
def test_multi_prompt_total_is_three_to_fifteen_seconds(
    durations: tuple[int, ...], expected: tuple[int, str]
) -> None:
    assert create({**BASE, "multi_prompt": shots(*durations)}) == expected


@pytest.mark.parametrize(("duration", "expected"), [(0, BAD), (1, OK), (1.5, BAD)])
def test_a_shot_lasts_whole_seconds_from_one(duration: Any, expected: tuple[int, str]) -> None:
    assert create({**BASE, "multi_prompt": shots(duration, 3)}) == expected


@pytest.mark.parametrize(("length", "expected"), [(0, BAD), (1, OK), (512, OK), (513, BAD)])
def test_shot_prompt_length(length: int, expected: tuple[int, str]) -> None:
    assert create({**BASE, "multi_prompt": [{"prompt": "x" * length, "duration": 5}]}) == expected


def test_multi_prompt_as_a_json_string_is_the_same_storyboard() -> None:
    story = shots(4, 6)
    c = SimClient([SPEC])
    as_list = c.post("/prospolabs/v1/generate", headers=H, json={**BASE, "multi_prompt": story}).json()
    as_text = c.post(
        "/prospolabs/v1/generate", headers=H, json={**BASE, "multi_prompt": json.dumps(story)}
    ).json()
    assert as_list["estimated_cost_usd"] == as_text["estimated_cost_usd"] == 1.0  # 10 s x $0.100


def test_multi_prompt_shots_decide_the_length_over_duration() -> None:
    c = SimClient([SPEC])
    body = c.post(
        "/prospolabs/v1/generate", headers=H, json={**BASE, "duration": 3, "multi_prompt": shots(7, 5)}
    )
    job = c.sim.engine.get("prospolabs", body.json()["generation_id"])
    assert job is not None and job.plan.output.seconds == 12 and job.plan.billed_seconds == 12
