"""Kling omni-video's reference video lasts 3-10 s (`video_list[].video_url`): a klingsim output named there
is probed (off the event loop, like a top-level video field) and refused with 400/1201 outside the range; a
video the simulator can't probe is taken on trust."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from klingsim.core import inputs
from klingsim.core.evaluate import constraints, evaluate
from klingsim.core.http import Request
from klingsim.providers import kling
from tests.kling_auth import kling_headers
from tests.support import SimClient

OMNI = "/kling/v1/videos/omni-video"
RULE = "kling.omni-reference-video-length"


def finished_output(client: SimClient, seconds: str, lasts: float | None = None) -> str:
    """The URL of a finished kling-v3 output of `seconds`; `lasts` shortens the rendered video below what
    any model renders (no provider makes a video under 3 s)."""
    body = {"model_name": "kling-v3", "prompt": "source", "duration": seconds}
    created = client.post("/kling/v1/videos/text2video", headers=kling_headers(), json=body)
    task_id = created.json()["data"]["task_id"]
    if lasts is not None:
        job = client.sim.engine.get("kling", task_id)
        assert job is not None
        job.plan = dataclasses.replace(job.plan, output=dataclasses.replace(job.plan.output, seconds=lasts))
    client.advance(3600)
    data = client.get(f"/kling/v1/videos/text2video/{task_id}", headers=kling_headers()).json()["data"]
    url: str = data["task_result"]["videos"][0]["url"]
    return url


def omni(url: str) -> dict[str, Any]:
    return {"prompt": "the same scene at night", "video_list": [{"video_url": url, "refer_type": "base"}]}


def test_a_five_second_reference_video_is_accepted() -> None:
    client = SimClient()
    created = client.post(OMNI, headers=kling_headers(), json=omni(finished_output(client, "5")))
    assert created.status_code == 200 and created.json()["code"] == 0, created.text


def test_a_too_long_reference_video_is_1201() -> None:
    client = SimClient()
    refused = client.post(OMNI, headers=kling_headers(), json=omni(finished_output(client, "11")))
    assert refused.status_code == 400, refused.text
    answer = refused.json()
    assert answer["code"] == 1201
    assert "video_list[0].video_url lasts 11.0 s; a reference video lasts 3 to 10 s" in answer["message"]


def test_a_too_short_reference_video_is_1201() -> None:
    client = SimClient()
    refused = client.post(OMNI, headers=kling_headers(), json=omni(finished_output(client, "3", lasts=2.0)))
    assert refused.status_code == 400 and refused.json()["code"] == 1201, refused.text
    assert "lasts 2.0 s" in refused.json()["message"]


def test_a_video_klingsim_cannot_probe_is_taken_on_trust() -> None:
    client = SimClient()
    created = client.post(OMNI, headers=kling_headers(), json=omni("https://example.com/clip.mp4"))
    assert created.status_code == 200, created.text


def test_a_forged_reference_video_url_is_1201() -> None:
    client = SimClient()
    forged = finished_output(client, "5").replace("signature=", "signature=0")
    refused = client.post(OMNI, headers=kling_headers(), json=omni(forged))
    assert refused.status_code == 400 and refused.json()["code"] == 1201
    assert "video_list[0].video_url" in refused.json()["message"]


def test_the_reference_video_is_probed_ahead_of_the_request() -> None:
    client = SimClient()
    url = finished_output(client, "5")
    body = httpx.Request("POST", "http://t", json=omni(url)).read()
    request = Request("POST", "/v1/videos/omni-video", {}, {}, body, "http://t")
    work = inputs.prepare(client.sim, "kling", request)
    assert len(work) == 1  # the render and probe the server runs in a worker thread
    work[0]()
    assert inputs.prepare(client.sim, "kling", request) == []  # cached: nothing left for the event loop


def test_the_kit_sees_the_range_and_evaluate_applies_it() -> None:
    declared = [c for c in constraints(kling.SPEC) if c.id == RULE]
    assert [(c.operation, c.kind, c.error) for c in declared] == [
        ("omni-video", "ProbedRange", "1201"),
        ("omni-video", "ProbedRange", "1201"),
    ]
    assert declared[0].constraint.path == "video_list[].video_url"
    assert "3-10 s" in declared[0].doc.quote
    body = omni("https://example.com/clip.mp4")
    key = "video_list[0].video_url"
    assert evaluate(kling.SPEC, body, "omni-video", probed={key: 12.0}).constraint == RULE
    assert evaluate(kling.SPEC, body, "omni-video", probed={key: 2.5}).constraint == RULE
    assert evaluate(kling.SPEC, body, "omni-video", probed={key: 5.0}).ok
