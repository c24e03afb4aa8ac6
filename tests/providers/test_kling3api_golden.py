"""kling3api against the examples of its page (seed 003), transcribed in fixtures/kling3api/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import SimClient, bearer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kling3api"
KEY = "k3a_test_0123456789abcdef"
H = bearer(KEY)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


CREATE_EXAMPLES = [
    "quick_start.json",
    "text_to_video.json",
    "image_to_video.json",
    "reference_to_video.json",
    "video_edit.json",
]


@pytest.mark.parametrize("name", CREATE_EXAMPLES)
def test_create_examples_answer_like_the_page(name: str) -> None:
    example = load(name)
    client = SimClient()
    response = client.post(
        "/kling3api" + example["request"]["path"], headers=H, json=example["request"]["body"]
    )
    expect = example["expect"]
    assert response.status_code == expect["status"]
    body = response.json()
    assert set(body) == {"code", "message", "data"}
    assert body["code"] == expect["code"] and body["message"] == expect["message"]
    assert set(body["data"]) == {"task_id", "status", "consumed_credits"}
    assert body["data"]["task_id"].startswith(expect["task_id_prefix"])
    assert body["data"]["status"] == expect["status_word"]
    assert body["data"]["consumed_credits"] == expect["consumed_credits"]


def test_status_answer_has_every_field_of_the_example_with_the_same_types() -> None:
    example = load("status_success.json")
    client = SimClient()
    created = client.post("/kling3api/api/generate", headers=H, json=example["create"]).json()
    task_id = created["data"]["task_id"]
    client.advance(3600)
    body = client.get("/kling3api/api/status", params={"task_id": task_id}, headers=H).json()
    documented = example["example_response"]
    assert body.keys() == documented.keys()
    assert body["data"].keys() == documented["data"].keys()
    for field, value in documented["data"].items():
        assert type(body["data"][field]) is type(value), field
    data = body["data"]
    assert data["status"] == "SUCCESS" and data["task_id"] == task_id
    assert data["request"] == documented["data"]["request"]
    assert data["type"] == documented["data"]["type"]
    assert data["consumed_credits"] == documented["data"]["consumed_credits"]
    assert data["created_at"].endswith("Z") and len(data["created_at"]) == len(
        documented["data"]["created_at"]
    )
    # "You can directly access data.response[0] to get the video URL."
    assert data["response"][0].startswith("http://testserver/") and ".mp4" in data["response"][0]


def test_status_routes_on_the_documented_prefixes() -> None:
    client = SimClient()
    kling3 = client.post(
        "/kling3api/api/generate", headers=H, json=load("text_to_video.json")["request"]["body"]
    )
    o3 = client.post(
        "/kling3api/api/generate", headers=H, json=load("reference_to_video.json")["request"]["body"]
    )
    for created, prefix in ((kling3, "n75"), (o3, "n71")):
        task_id = created.json()["data"]["task_id"]
        assert task_id.startswith(prefix)
        assert client.get("/kling3api/api/status", params={"task_id": task_id}, headers=H).status_code == 200
    # Another prefix routes nowhere: not found in the provider's envelope.
    foreign = "n99" + kling3.json()["data"]["task_id"][3:]
    answer = client.get("/kling3api/api/status", params={"task_id": foreign}, headers=H)
    assert answer.status_code == 404 and answer.json()["code"] == 404 and answer.json()["data"] is None


@pytest.mark.parametrize("row", load("prices.json")["rows"], ids=lambda r: f"{r['type']}-{r.get('sound')}")
def test_every_price_row_is_charged_at_create(row: dict[str, Any]) -> None:
    client = SimClient()
    body: dict[str, Any] = {"type": row["type"], "prompt": "a price check", "duration": 7}
    if "sound" in row:
        body["sound"] = row["sound"]
    if row["type"].endswith("image-to-video"):
        body["image"] = "https://example.com/a.jpg"
    if row["type"].endswith(("video-edit", "reference-to-video")):
        body["video"] = "https://example.com/a.mp4"
    before = (
        client.sim.ledger.balance("kling3api", KEY) if client.sim.ledger.exists("kling3api", KEY) else None
    )
    created = client.post("/kling3api/api/generate", headers=H, json=body)
    assert created.status_code == 200, created.text
    expected = row["fixed"] if "fixed" in row else row["per_second"] * 7
    assert created.json()["data"]["consumed_credits"] == expected
    assert before is None
    assert client.sim.ledger.balance("kling3api", KEY) == 10_000 - expected


def test_sound_defaults_to_true_and_is_billed_with_audio() -> None:
    client = SimClient()
    created = client.post(
        "/kling3api/api/generate", headers=H, json={"type": "std-text-to-video", "prompt": "x"}
    )
    assert created.json()["data"]["consumed_credits"] == 60 * 5


def test_video_edit_ignores_duration_and_charges_the_fixed_price() -> None:
    client = SimClient()
    body = {"type": "o3-std-video-edit", "prompt": "x", "video": "https://example.com/v.mp4", "duration": 99}
    created = client.post("/kling3api/api/generate", headers=H, json=body)
    assert created.status_code == 200
    assert created.json()["data"]["consumed_credits"] == 360


@pytest.mark.parametrize("error", load("errors.json")["errors"], ids=lambda e: e["code"])
def test_every_documented_error_is_in_the_catalogue_with_its_status(error: dict[str, Any]) -> None:
    from klingsim.providers.kling3api import SPEC

    spec_error = SPEC.error(error["code"])
    assert spec_error.status == error["status"]
    assert spec_error.message == error["description"]
