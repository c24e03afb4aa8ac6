"""The official Kling API against the public examples in fixtures/kling/ (each names its origin)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from klingsim.core.clock import VIRTUAL_EPOCH
from tests.kling_auth import ACCESS_KEY, kling_headers
from tests.support import SimClient

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kling"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CREATE_EXAMPLES = ["text2video.json", "image2video.json", "omni_video.json"]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def test_every_fixture_names_its_origin() -> None:
    for path in FIXTURES.glob("*.json"):
        source = json.loads(path.read_text())["source"]
        assert source["origin"] and source["quote"], path.name


@pytest.mark.parametrize("name", CREATE_EXAMPLES)
def test_create_examples_answer_like_the_pages(name: str) -> None:
    example = load(name)
    client = SimClient()
    response = client.post(
        "/kling" + example["request"]["path"], headers=kling_headers(), json=example["request"]["body"]
    )
    assert response.status_code == example["expect"]["status"], response.text
    body = response.json()
    assert set(body) == {"code", "message", "request_id", "data"}
    assert body["code"] == 0 and body["message"] == "SUCCEED"
    assert UUID.fullmatch(body["request_id"])
    data = body["data"]
    assert set(data) == {"task_id", "task_status", "task_info", "created_at", "updated_at"}
    assert re.fullmatch(r"\d{18}", data["task_id"])
    assert data["task_status"] == "submitted"
    assert data["created_at"] == data["updated_at"] == int(VIRTUAL_EPOCH * 1000)
    assert isinstance(data["task_info"], dict)


def test_create_answer_has_the_example_fields_with_the_same_types() -> None:
    example = load("text2video.json")
    body = SimClient().post(
        "/kling/v1/videos/text2video", headers=kling_headers(), json=example["request"]["body"]
    )
    documented = example["example_response"]
    answer = body.json()
    assert answer.keys() == documented.keys()
    assert answer["data"].keys() == documented["data"].keys()
    for field, value in documented["data"].items():
        assert type(answer["data"][field]) is type(value), field
    assert answer["data"]["task_info"] == {"external_task_id": "my-t2v-0001"}


def test_query_answer_has_every_field_of_the_example_with_the_same_types() -> None:
    example = load("query_success.json")
    client = SimClient()
    created = client.post(
        "/kling/v1/videos/text2video", headers=kling_headers(), json=example["create"]
    ).json()
    task_id = created["data"]["task_id"]
    client.advance(3600)
    answer = client.get(f"/kling/v1/videos/text2video/{task_id}", headers=kling_headers())
    assert answer.status_code == 200
    body = answer.json()
    documented = example["example_response"]
    assert body.keys() == documented.keys()
    assert body["code"] == 0 and body["message"] == "SUCCEED"
    data = body["data"]
    assert set(documented["data"]) <= set(data)
    for field, value in documented["data"].items():
        assert type(data[field]) is type(value), field
    assert data["task_status"] == "succeed" and data["task_status_msg"] == ""
    assert data["task_info"] == {"external_task_id": "query-example-1"}
    assert data["final_unit_deduction"] == "1"
    assert data["updated_at"] > data["created_at"]
    video = data["task_result"]["videos"][0]
    assert set(documented["data"]["task_result"]["videos"][0]) <= set(video)
    assert video["duration"] == "5.0"  # seconds as a string with one decimal
    assert video["url"].startswith("http://testserver/") and ".mp4" in video["url"]
    assert client.get(video["url"]).content[4:8] == b"ftyp"


def test_query_by_external_task_id_answers_the_same_task() -> None:
    example = load("query_success.json")
    client = SimClient()
    created = client.post(
        "/kling/v1/videos/text2video", headers=kling_headers(), json=example["create"]
    ).json()
    by_external = client.get("/kling/v1/videos/text2video/query-example-1", headers=kling_headers()).json()
    assert by_external["data"]["task_id"] == created["data"]["task_id"]


def test_status_words_follow_the_documented_order() -> None:
    words = load("query_success.json")["status_words"]
    client = SimClient()
    created = client.post(
        "/kling/v1/videos/text2video", headers=kling_headers(), json={"prompt": "a cat"}
    ).json()
    task_id = created["data"]["task_id"]
    seen = []
    for _ in range(400):
        data = client.get(f"/kling/v1/videos/text2video/{task_id}", headers=kling_headers()).json()["data"]
        if not seen or seen[-1] != data["task_status"]:
            seen.append(data["task_status"])
        if data["task_status"] in ("succeed", "failed"):
            break
        client.advance(1)
    assert seen == words[:3]


def test_list_is_a_bare_array_of_task_objects_newest_first() -> None:
    client = SimClient()
    ids = []
    for i in range(3):
        body = {"prompt": f"clip {i}"}
        ids.append(
            client.post("/kling/v1/videos/text2video", headers=kling_headers(), json=body).json()["data"][
                "task_id"
            ]
        )
        client.advance(1)
    client.post(
        "/kling/v1/videos/image2video", headers=kling_headers(), json={"image": "https://example.com/a.jpg"}
    )
    answer = client.get(
        "/kling/v1/videos/text2video", params={"pageNum": 1, "pageSize": 30}, headers=kling_headers()
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["code"] == 0 and body["message"] == "SUCCEED"
    assert isinstance(body["data"], list)
    assert [t["task_id"] for t in body["data"]] == ids[::-1]
    assert all("task_status_msg" in t and "final_unit_deduction" in t for t in body["data"])
    page = client.get(
        "/kling/v1/videos/text2video", params={"pageNum": 2, "pageSize": 2}, headers=kling_headers()
    )
    assert [t["task_id"] for t in page.json()["data"]] == ids[:1]


def test_account_costs_lists_the_resource_pack_with_the_documented_fields() -> None:
    example = load("account_costs.json")
    client = SimClient()
    answer = client.get("/kling/account/costs", params=example["request"]["query"], headers=kling_headers())
    assert answer.status_code == 200
    body = answer.json()
    assert body["code"] == 0 and body["message"] == "SUCCEED"
    packs = body["data"]["resource_pack_subscribe_infos"]
    assert len(packs) == 1
    pack = packs[0]
    assert set(example["pack_fields"]) <= set(pack)
    assert pack["resource_pack_type"] == "decreasing_total"
    assert pack["status"] in example["status_words"] and pack["status"] == "online"
    assert pack["total_quantity"] == pack["remaining_quantity"] == 1000
    for field in ("purchase_time", "effective_time", "invalid_time"):
        assert isinstance(pack[field], int)


def test_remaining_quantity_follows_the_ledger() -> None:
    client = SimClient()
    client.post("/kling/v1/videos/text2video", headers=kling_headers(), json={"prompt": "x", "mode": "pro"})
    pack = client.get("/kling/account/costs", headers=kling_headers()).json()["data"][
        "resource_pack_subscribe_infos"
    ][0]
    assert pack["remaining_quantity"] == pytest.approx(1000 - 1.75)
    assert pack["total_quantity"] == 1000


@pytest.mark.parametrize("error", load("errors.json")["errors"], ids=lambda e: str(e["code"]))
def test_every_documented_error_answers_its_status_in_the_envelope(error: dict[str, Any]) -> None:
    client = SimClient()
    response = client.post(
        "/kling/v1/videos/text2video",
        headers={**kling_headers(), "X-Klingsim-Fault": str(error["code"])},
        json={"prompt": "x"},
    )
    assert response.status_code == error["status"], response.text
    body = response.json()
    assert set(body) == {"code", "message", "request_id"}
    assert body["code"] == error["code"] and isinstance(body["message"], str) and body["message"]


def test_an_account_key_pair_can_be_registered_and_is_then_verified() -> None:
    client = SimClient()
    answer = client.request(
        "PUT",
        f"/_klingsim/accounts/kling/{ACCESS_KEY}",
        json={"balance": 50, "secret_key": "the-real-secret"},
    )
    assert answer.status_code == 200, answer.text
    wrong = client.post("/kling/v1/videos/text2video", headers=kling_headers(), json={"prompt": "x"})
    assert wrong.status_code == 401 and wrong.json()["code"] == 1000
    right = client.post(
        "/kling/v1/videos/text2video",
        headers=kling_headers(secret_key="the-real-secret"),
        json={"prompt": "x"},
    )
    assert right.status_code == 200
    pack = client.get("/kling/account/costs", headers=kling_headers(secret_key="the-real-secret")).json()[
        "data"
    ]["resource_pack_subscribe_infos"][0]
    assert pack["total_quantity"] == 50 and pack["remaining_quantity"] == 49
