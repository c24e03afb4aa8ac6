"""EvoLink tasks on the virtual clock: status, progress, can_cancel, reservations, prices, output URLs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from klingsim.providers import evolink
from tests.support import SimClient, bearer

KEY = "sk-evo-lifecycle0123456"
H = bearer(KEY)
CREATE = "/evolink/v1/videos/generations"
VIDEO = "https://example.com/v.mp4"


def start(body: dict[str, Any] | None = None, **options: Any) -> tuple[SimClient, dict[str, Any]]:
    c = SimClient([evolink.SPEC], **options)
    response = c.post(CREATE, headers=H, json=body or {"prompt": "A golden retriever"})
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return c, task


def poll(c: SimClient, task_id: str) -> dict[str, Any]:
    response = c.get(f"/evolink/v1/tasks/{task_id}", headers=H)
    assert response.status_code == 200
    task: dict[str, Any] = response.json()
    return task


def remaining(c: SimClient) -> float:
    value: float = c.get("/evolink/v1/credits", headers=H).json()["data"]["user"]["remaining_credits"]
    return value


def test_pending_processing_completed_with_monotonic_progress_on_the_clock() -> None:
    c, task = start()
    seen: list[tuple[str, int, bool]] = [(task["status"], task["progress"], task["task_info"]["can_cancel"])]
    for _ in range(200):
        c.advance(5)
        now = poll(c, task["id"])
        seen.append((now["status"], now["progress"], now["task_info"]["can_cancel"]))
        if now["status"] == "completed":
            break
    statuses = [s for s, _, _ in seen]
    assert statuses[0] == "pending" and statuses[-1] == "completed"
    assert "processing" in statuses
    order = {"pending": 0, "processing": 1, "completed": 2}
    assert [order[s] for s in statuses] == sorted(order[s] for s in statuses)
    progress = [p for _, p, _ in seen]
    assert progress == sorted(progress) and progress[0] == 0 and progress[-1] == 100
    assert all(isinstance(p, int) and 0 <= p <= 100 for p in progress)
    assert any(0 < p < 100 for p in progress)  # progress moves while processing, not only at the end
    # can_cancel holds exactly while the task is pending
    assert all(cancel is (status == "pending") for status, _, cancel in seen)


def test_polling_does_not_move_a_task_only_the_clock_does() -> None:
    c, task = start()
    for _ in range(20):
        assert poll(c, task["id"])["status"] == "pending"


def test_results_only_when_completed_and_the_url_serves_an_mp4_for_24_hours() -> None:
    c, task = start()
    assert "results" not in task
    c.advance(3600)
    done = poll(c, task["id"])
    url = done["results"][0]
    response = c.get(url)
    assert response.status_code == 200 and response.content[4:8] == b"ftyp"
    job = c.sim.engine.get("evolink", task["id"])
    assert job is not None and job.finished_at is not None
    expires = int(url.split("expires=")[1].split("&")[0])
    assert expires == int(job.finished_at + 24 * 3600)
    c.advance(expires - c.clock.now())
    assert c.get(url).status_code == 200  # still valid at the 24 h mark
    c.advance(1)
    expired = c.get(url)
    assert expired.status_code == 403
    assert expired.json()["error"]["type"] == "permission_error"
    assert poll(c, task["id"])["results"] == [url]  # the task record keeps the stale URL


def test_output_lifetime_is_a_setting() -> None:
    spec = evolink.SPEC.with_settings({"output_url_lifetime_seconds": 60})
    c = SimClient([spec])
    task_id = c.post(CREATE, headers=H, json={"prompt": "x"}).json()["id"]
    c.advance(3600)
    url = poll(c, task_id)["results"][0]
    assert c.get(url).status_code == 403


def test_success_captures_the_reservation() -> None:
    c, task = start({"prompt": "x", "quality": "1080p", "sound": "on", "duration": 10})
    assert remaining(c) == pytest.approx(1000 - 90.018)  # held at create: 9.0018 credits/s x 10 s
    assert task["usage"]["credits_reserved"] == 900180
    c.advance(3600)
    assert poll(c, task["id"])["status"] == "completed"
    credits = c.get("/evolink/v1/credits", headers=H).json()["data"]["user"]
    assert credits == {"remaining_credits": 909.982, "used_credits": 90.018}
    kinds = [e["kind"] for e in c.get(f"/_klingsim/accounts/evolink/{KEY}").json()["entries"]]
    assert kinds == ["topup", "hold", "capture"]
    assert c.sim.ledger.inconsistencies() == []


def test_failed_task_releases_the_reservation_and_reports_the_business_code() -> None:
    c, task = start({"prompt": "x [klingsim:fail=content_policy_violation]", "duration": 15})
    assert remaining(c) == pytest.approx(1000 - 81)
    c.advance(3600)
    failed = poll(c, task["id"])
    assert failed["status"] == "failed" and failed["progress"] == 0
    assert "results" not in failed
    assert failed["error"]["code"] == "content_policy_violation"
    assert failed["error"]["type"] == "invalid_request_error" and failed["error"]["message"]
    assert failed["task_info"]["can_cancel"] is False
    credits = c.get("/evolink/v1/credits", headers=H).json()["data"]["user"]
    assert credits == {"remaining_credits": 1000.0, "used_credits": 0.0}
    kinds = [e["kind"] for e in c.get(f"/_klingsim/accounts/evolink/{KEY}").json()["entries"]]
    assert kinds == ["topup", "hold", "release"]
    assert c.sim.ledger.inconsistencies() == []


def test_cancelling_on_the_control_plane_fails_with_request_cancelled_and_releases() -> None:
    # C23: no cancel route is documented; the admin hook ends a pending task as a cancellation
    c, task = start()
    outcome = {"status": "failed", "error": "request_cancelled"}
    assert c.post(f"/_klingsim/jobs/evolink/{task['id']}/outcome", json=outcome).status_code == 200
    cancelled = poll(c, task["id"])
    assert cancelled["status"] == "failed" and cancelled["task_info"]["can_cancel"] is False
    assert cancelled["error"]["code"] == "request_cancelled"
    assert cancelled["error"]["type"] == "invalid_request_error"
    assert remaining(c) == 1000
    unnamed = start()
    unnamed_id = unnamed[1]["id"]
    assert (
        unnamed[0]
        .post(f"/_klingsim/jobs/evolink/{unnamed_id}/outcome", json={"status": "failed"})
        .status_code
        == 200
    )
    assert poll(unnamed[0], unnamed_id)["error"]["code"] == "unknown_error"


def test_a_retryable_failure_code_gets_the_server_error_type() -> None:
    c, task = start({"prompt": "[klingsim:fail=generation_timeout]"})
    c.advance(3600)
    assert poll(c, task["id"])["error"] == {
        "code": "generation_timeout",
        "message": poll(c, task["id"])["error"]["message"],
        "type": "internal_server_error",
    }


def test_same_seed_same_ids() -> None:
    first = [start()[1]["id"] for _ in range(2)]
    assert first[0] == first[1]
    assert start(seed=7)[1]["id"] != start(seed=8)[1]["id"]


# ----------------------------------------------------------------- prices: every row, and the minimum
@pytest.mark.parametrize("rate", evolink.SPEC.prices.rates, ids=[r.label for r in evolink.SPEC.prices.rates])
def test_every_price_row_including_the_3_second_minimum(rate: Any) -> None:
    table = evolink.SPEC.prices
    per_second = table.per_second(rate)
    for seconds in (3, 7, 15):
        assert table.price(rate.match, seconds) == per_second * seconds
    # duration can't go under 3 s through the API, so the minimum is checked on the table itself
    for short in (0, 1, 2, 2.5):
        assert table.price(rate.match, short) == per_second * 3


def test_credits_per_second_of_every_row() -> None:
    table = evolink.SPEC.prices
    got = {tuple(r.match.values()): table.per_second(r) for r in table.rates}
    seed_rows = {
        ("720p", "off"): "5.4",
        ("720p", "on"): "7.2036",
        ("1080p", "off"): "7.2036",
        ("1080p", "on"): "9.0018",
    }
    for model in ("kling-o3-text-to-video", "kling-o3-image-to-video"):
        for (quality, sound), credits in seed_rows.items():
            assert got[(model, quality, sound)] == Decimal(credits)
    assert got[("kling-o3-reference-to-video", "720p", "off")] == Decimal("5.4")
    assert got[("kling-o3-reference-to-video", "1080p", "off")] == Decimal("7.2036")
    assert got[("kling-o3-video-edit", "720p", "off")] == Decimal("8.1")
    assert got[("kling-o3-video-edit", "1080p", "off")] == Decimal("10.8054")
    assert len(table.rates) == 12


def test_video_edit_is_billed_per_call_for_the_assumed_source_length() -> None:
    body = {"model": "kling-o3-video-edit", "prompt": "warm tones", "video_url": VIDEO, "quality": "1080p"}
    c, task = start(body)
    assert task["usage"]["billing_rule"] == "per_call"
    assert task["usage"]["credits_reserved"] == 540270  # 10.8054 credits/s x 5 s source
    assert task["task_info"]["video_duration"] == 5
    job = c.sim.engine.get("evolink", task["id"])
    assert job is not None and job.plan.output.audio is True  # keep_original_sound defaults to true
    spec = evolink.SPEC.with_settings({"video_edit_input_seconds": 8})
    longer = SimClient([spec]).post(CREATE, headers=H, json=body).json()
    assert longer["usage"]["credits_reserved"] == int(Decimal("10.8054") * 8 * 10_000)


@pytest.mark.parametrize(
    ("body", "audio", "lines"),
    [
        ({"prompt": "x"}, False, 720),
        ({"prompt": "x", "sound": "on", "quality": "1080p"}, True, 1080),
        ({"model": "kling-o3-reference-to-video", "prompt": "x", "video_url": VIDEO}, True, 720),
        (
            {
                "model": "kling-o3-reference-to-video",
                "prompt": "x",
                "video_url": VIDEO,
                "keep_original_sound": False,
            },
            False,
            720,
        ),
        (
            {"model": "kling-o3-reference-to-video", "prompt": "x", "image_urls": ["https://e.com/a.png"]},
            False,
            720,
        ),
        (
            {"model": "kling-o3-video-edit", "prompt": "x", "video_url": VIDEO, "keep_original_sound": False},
            False,
            720,
        ),
    ],
)
def test_output_plan_follows_quality_and_sound(body: dict[str, Any], audio: bool, lines: int) -> None:
    c, task = start(body)
    job = c.sim.engine.get("evolink", task["id"])
    assert job is not None
    assert (job.plan.output.audio, job.plan.output.lines) == (audio, lines)


def test_multi_shot_output_is_the_total_of_its_shots() -> None:
    shots = [{"index": i, "prompt": f"s{i}", "duration": d} for i, d in enumerate(("4", "6", "2"), 1)]
    params = {"multi_shot": True, "shot_type": "customize", "multi_prompt": shots}
    c, task = start({"duration": 12, "model_params": params})
    assert task["task_info"]["video_duration"] == 12
    job = c.sim.engine.get("evolink", task["id"])
    assert job is not None and job.plan.output.seconds == 12
