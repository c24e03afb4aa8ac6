"""EmpirioLabs jobs on the clock: queued -> running -> completed, progress 0-1, URL expiry, usage events."""

from __future__ import annotations

from typing import Any

from klingsim.providers.empiriolabs import SPEC
from klingsim.spec import Phase
from tests.support import SimClient, bearer

KEY = "sk-empiriolabs-life0123456789"
H = bearer(KEY)
CREATE = "/empiriolabs/v1/videos/generations"
BODY = {"model": "kling-o3", "prompt": "A lighthouse at dusk"}


def poll(client: SimClient, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/empiriolabs/v1/jobs/{job_id}", headers=H).json()
    return body


def test_create_answers_at_once_with_the_job_and_its_poll_url() -> None:
    client = SimClient([SPEC])
    response = client.post(CREATE, headers=H, json=BODY)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "queued" and body["model"] == "kling-o3"
    assert body["poll_url"] == f"/v1/jobs/{body['job_id']}"
    assert body["created_at"] == "2026-01-01T00:00:00Z"
    assert client.get("/empiriolabs" + body["poll_url"], headers=H).status_code == 200


def test_statuses_follow_the_clock_and_progress_rises_from_zero_to_one() -> None:
    client = SimClient([SPEC])
    job_id = client.post(CREATE, headers=H, json=BODY).json()["job_id"]
    seen: list[tuple[str, float]] = []
    for _ in range(40):  # 40 x 5 s covers the longest drawn render of a 5 s pro job
        job = poll(client, job_id)
        seen.append((job["status"], job["progress"]))
        if job["status"] == "completed":
            break
        assert job["completed_at"] is None and job["result"] is None and job["error"] is None
        client.advance(5)
    statuses = [s for s, _ in seen]
    assert statuses[0] == "queued" and statuses[-1] == "completed"
    assert "running" in statuses
    order = {"queued": 0, "running": 1, "completed": 2}
    assert [order[s] for s in statuses] == sorted(order[s] for s in statuses)
    progress = [p for _, p in seen]
    assert progress == sorted(progress)
    assert progress[0] == 0 and progress[-1] == 1
    assert all(0 < p < 1 for s, p in seen if s == "running")
    assert isinstance(seen[-1][1], float)


def test_status_does_not_move_without_the_clock_however_often_it_is_polled() -> None:
    client = SimClient([SPEC])
    job_id = client.post(CREATE, headers=H, json=BODY).json()["job_id"]
    assert {poll(client, job_id)["status"] for _ in range(10)} == {"queued"}


def test_completed_job_reports_result_and_completed_at() -> None:
    client = SimClient([SPEC])
    job_id = client.post(CREATE, headers=H, json={**BODY, "model_tier": "4k", "duration": 7}).json()["job_id"]
    client.advance(3600)
    job = poll(client, job_id)
    assert job["completed_at"] is not None and job["completed_at"] > job["created_at"]
    (item,) = job["result"]["data"]
    assert item["duration_seconds"] == 7 and item["content_type"] == "video/mp4"
    assert job["result"]["usage"] == {
        "billable_units": 7,
        "billing_unit": "second",
        "cost": {"amount": 3.675, "currency": "USD"},
    }
    stored = client.sim.engine.get("empiriolabs", job_id)
    assert stored is not None and stored.plan.output.lines == 2160


def test_output_plans_follow_tier_resolution_and_sound() -> None:
    client = SimClient([SPEC])
    cases = [
        ({**BODY, "model_tier": "standard", "sound": False}, 720, False),
        ({**BODY, "model_tier": "pro"}, 1080, True),
        ({"model": "kling-3-0-turbo", "prompt": "x", "resolution": "1080p"}, 1080, True),
        ({"model": "kling-3-0-turbo", "prompt": "x"}, 720, True),  # audio is always on for turbo
    ]
    for body, lines, audio in cases:
        job_id = client.post(CREATE, headers=H, json=body).json()["job_id"]
        stored = client.sim.engine.get("empiriolabs", job_id)
        assert stored is not None
        assert (stored.plan.output.lines, stored.plan.output.audio) == (lines, audio)


def test_output_url_downloads_for_24_hours_then_answers_403() -> None:
    client = SimClient([SPEC])
    job_id = client.post(CREATE, headers=H, json=BODY).json()["job_id"]
    client.advance(3600)
    url = poll(client, job_id)["result"]["data"][0]["url"].removeprefix("http://testserver")
    video = client.get(url)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    client.advance(24 * 3600 - 3600)
    assert client.get(url).status_code == 200
    client.advance(24 * 3600)
    expired = client.get(url)
    assert expired.status_code == 403
    assert expired.json()["error"]["code"] == "url_expired"


def test_failed_job_reports_its_error() -> None:
    client = SimClient([SPEC])
    job_id = client.post(
        CREATE, headers=H, json={**BODY, "prompt": "x [klingsim:fail=upstream_error]"}
    ).json()
    client.advance(3600)
    job = poll(client, job_id["job_id"])
    assert job["status"] == "failed" and job["result"] is None
    assert job["error"]["code"] == "upstream_error" and job["error"]["message"]
    assert job["completed_at"] is not None


def test_success_word_and_create_status_are_settings() -> None:
    """C17: `completed` by default; `succeeded` (the vendor blog's word) by a setting."""
    spec = SPEC.with_settings({"status_word_succeeded": "succeeded", "create_success_status": 202})
    assert spec.lifecycle.word(Phase.SUCCEEDED) == "succeeded"
    client = SimClient([spec])
    created = client.post(CREATE, headers=H, json=BODY)
    assert created.status_code == 202
    client.advance(3600)
    assert poll(client, created.json()["job_id"])["status"] == "succeeded"


def test_usage_lists_the_accounts_events_newest_first_with_filters_and_pages() -> None:
    client = SimClient([SPEC])
    first = client.post(CREATE, headers=H, json=BODY).json()["job_id"]
    client.advance(10)
    second = client.post(CREATE, headers=H, json={"model": "kling-3-0-turbo", "prompt": "x"}).json()["job_id"]
    client.post(CREATE, headers=bearer("sk-empiriolabs-other0123456789"), json=BODY)
    client.advance(3600)
    usage = client.get("/empiriolabs/v1/account/usage", headers=H).json()
    assert usage["balance"] == {"amount": 50 - 1.4 - 0.9, "currency": "USD"}
    assert [e["job_id"] for e in usage["data"]] == [second, first]
    event = usage["data"][1]
    assert event["object"] == "usage_event" and event["model"] == "kling-o3"
    assert event["endpoint"] == "/v1/videos/generations"
    assert event["cost"] == {"amount": 1.4, "currency": "USD"} and event["status"] == "completed"
    assert len(event["output_urls"]) == 1
    only_o3 = client.get("/empiriolabs/v1/account/usage", params={"model": "kling-o3"}, headers=H).json()
    assert [e["job_id"] for e in only_o3["data"]] == [first]
    page = client.get("/empiriolabs/v1/account/usage", params={"limit": "1"}, headers=H).json()
    assert [e["job_id"] for e in page["data"]] == [second] and page["has_more"] is True
    rest = client.get(
        "/empiriolabs/v1/account/usage", params={"before": page["next_cursor"]}, headers=H
    ).json()
    assert [e["job_id"] for e in rest["data"]] == [first] and rest["has_more"] is False
    later = client.get(
        "/empiriolabs/v1/account/usage", params={"from": "2026-01-01T00:00:05Z"}, headers=H
    ).json()
    assert [e["job_id"] for e in later["data"]] == [second]
    bad = client.get("/empiriolabs/v1/account/usage", params={"from": "yesterday"}, headers=H)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "from"


def test_models_lists_both_models() -> None:
    models = SimClient([SPEC]).get("/empiriolabs/v1/models", headers=H).json()
    assert [m["id"] for m in models["data"]] == ["kling-o3", "kling-3-0-turbo"]
