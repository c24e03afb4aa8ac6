"""Kling tasks on the virtual clock: status words, refunds, callbacks on each change, 30-day expiry."""

from __future__ import annotations

from typing import Any

from tests.kling_auth import ACCESS_KEY, kling_headers
from tests.support import SimClient

T2V = "/kling/v1/videos/text2video"
DAY = 24 * 3600


def query(c: SimClient, task_id: str, kind: str = "text2video") -> dict[str, Any]:
    response = c.get(f"/kling/v1/videos/{kind}/{task_id}", headers=kling_headers())
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def remaining(c: SimClient) -> float:
    infos = c.get("/kling/account/costs", headers=kling_headers()).json()["data"][
        "resource_pack_subscribe_infos"
    ]
    value: float = infos[0]["remaining_quantity"]
    return value


def test_task_moves_on_the_clock_only() -> None:
    c = SimClient()
    task_id = c.post(T2V, headers=kling_headers(), json={"prompt": "x"}).json()["data"]["task_id"]
    job = c.sim.engine.get("kling", task_id)
    assert job is not None
    assert [query(c, task_id)["task_status"] for _ in range(3)] == ["submitted"] * 3
    c.clock.set(job.run_at)
    assert query(c, task_id)["task_status"] == "processing"
    c.clock.set(job.finish_at)
    done = query(c, task_id)
    assert done["task_status"] == "succeed"
    assert done["updated_at"] == round(job.finish_at * 1000)
    assert done["final_unit_deduction"] == "1"


def test_a_failed_task_is_refunded_and_deducts_nothing() -> None:
    c = SimClient()
    task_id = c.post(
        T2V, headers=kling_headers(), json={"prompt": "x [klingsim:fail=1301]", "mode": "pro"}
    ).json()["data"]["task_id"]
    assert remaining(c) == 1000 - 1.75  # charged at creation
    c.advance(3600)
    data = query(c, task_id)
    assert data["task_status"] == "failed" and data["task_status_msg"]
    assert data["final_unit_deduction"] == "0"
    assert remaining(c) == 1000


def test_callbacks_post_the_flat_task_object_on_every_status_change() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def transport(
        url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        sent.append((url, payload))
        return 200, None

    c = SimClient(callback_transport=transport)
    body = {"prompt": "x", "callback_url": "https://hooks.example.com/kling", "external_task_id": "cb-1"}
    task_id = c.post(T2V, headers=kling_headers(), json=body).json()["data"]["task_id"]
    c.advance(3600)
    statuses = [payload["task_status"] for _, payload in sent]
    assert statuses == ["processing", "succeed"]
    last = sent[-1][1]
    assert last["task_id"] == task_id and "code" not in last and "data" not in last  # flat, no envelope
    assert last["task_info"] == {"external_task_id": "cb-1"}
    assert last["task_result"]["videos"][0]["url"]
    assert {"task_status_msg", "created_at", "updated_at", "final_unit_deduction"} <= set(last)


def test_outputs_expire_thirty_days_after_the_task_finished() -> None:
    c = SimClient()
    task_id = c.post(T2V, headers=kling_headers(), json={"prompt": "x"}).json()["data"]["task_id"]
    c.advance(3600)
    url = query(c, task_id)["task_result"]["videos"][0]["url"]
    assert c.get(url).status_code == 200
    c.advance(30 * DAY - 3600)
    assert c.get(url).status_code == 200
    c.advance(3600 + 1)
    assert c.get(url).status_code == 404


def test_setting_the_balance_replaces_the_pack() -> None:
    c = SimClient()
    c.request("PUT", f"/_klingsim/accounts/kling/{ACCESS_KEY}", json={"balance": 20})
    packs = c.get("/kling/account/costs", headers=kling_headers()).json()["data"][
        "resource_pack_subscribe_infos"
    ]
    assert len(packs) == 1 and packs[0]["total_quantity"] == 20 and packs[0]["remaining_quantity"] == 20


def test_image2video_and_omni_tasks_are_queried_under_their_own_kind() -> None:
    c = SimClient()
    i2v = c.post(
        "/kling/v1/videos/image2video", headers=kling_headers(), json={"image": "https://example.com/a.jpg"}
    ).json()["data"]["task_id"]
    omni = c.post("/kling/v1/videos/omni-video", headers=kling_headers(), json={"prompt": "x"}).json()[
        "data"
    ]["task_id"]
    c.advance(3600)
    assert query(c, i2v, "image2video")["task_status"] == "succeed"
    assert query(c, omni, "omni-video")["task_status"] == "succeed"
