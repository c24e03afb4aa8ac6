"""Prospolabs jobs on the virtual clock: sync and async creates, polling, refunds, webhooks, URL expiry."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from klingsim.providers.prospolabs import SPEC
from klingsim.spec import Phase
from tests.support import SimClient, bearer

KEY = "prsp-0123456789abcdef"
H = bearer(KEY)
GENERATE = "/prospolabs/v1/generate"
BASE = {"model": "kling-o3", "prompt": "a fox in the snow"}
FAIL = {**BASE, "prompt": "a fox [klingsim:fail=generation_failed]"}
WEEK = 7 * 24 * 3600


def poll(c: SimClient, generation_id: str) -> dict[str, Any]:
    response = c.get(f"/prospolabs/v1/generations/{generation_id}", headers=H)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def entries(c: SimClient) -> list[tuple[str, float]]:
    account = c.get(f"/_klingsim/accounts/prospolabs/{KEY}").json()
    return [(e["kind"], e["amount"]) for e in account["entries"]]


def test_async_create_answers_queued_then_moves_on_the_clock_only() -> None:
    c = SimClient([SPEC])
    created = c.post(GENERATE, headers=H, json={**BASE, "async": True}).json()
    assert created["status"] == "queued" and created["output_url"] is None and created["duration_ms"] is None
    gid = created["generation_id"]
    job = c.sim.engine.get("prospolabs", gid)
    assert job is not None
    assert [poll(c, gid)["status"] for _ in range(3)] == ["queued"] * 3  # polling alone moves nothing
    c.clock.set(job.run_at)
    assert poll(c, gid)["status"] == "processing"
    c.clock.set(job.finish_at - 0.001)
    assert poll(c, gid)["status"] == "processing"
    c.clock.set(job.finish_at)
    done = poll(c, gid)
    assert done["status"] == "completed" and done["output_url"]
    assert done["duration_ms"] == round((job.finish_at - job.created_at) * 1000)
    assert done.keys() == created.keys()


def test_async_query_string_skips_the_synchronous_wait() -> None:
    c = SimClient([SPEC])
    assert c.post(GENERATE + "?async=true", headers=H, json=BASE).json()["status"] == "queued"
    assert c.post(GENERATE + "?async=false", headers=H, json=BASE).json()["status"] == "completed"


def test_sync_create_is_answered_finished_with_the_simulated_render_time() -> None:
    c = SimClient([SPEC])
    body = c.post(GENERATE, headers=H, json=BASE).json()
    job = c.sim.engine.get("prospolabs", body["generation_id"])
    assert job is not None and job.phase is Phase.SUCCEEDED
    assert body["duration_ms"] == round((job.finish_at - job.created_at) * 1000) > 20_000
    assert poll(c, body["generation_id"]) == body  # the poll route answers the same object


def test_a_sync_wait_shorter_than_the_render_answers_processing_and_the_job_finishes_later() -> None:
    c = SimClient([SPEC.with_settings({"sync_wait_seconds": 0})])
    body = c.post(GENERATE, headers=H, json=BASE).json()
    assert body["status"] == "processing" and body["output_url"] is None
    c.advance(3600)
    assert poll(c, body["generation_id"])["status"] == "completed"


def test_failed_sync_run_answers_failed_and_is_refunded() -> None:
    c = SimClient([SPEC])
    response = c.post(GENERATE, headers=H, json=FAIL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed" and body["output_url"] is None
    assert body["error"]["code"] == "generation_failed"
    assert entries(c) == [("topup", 10.0), ("charge", 0.5), ("refund", 0.5)]
    assert c.sim.ledger.balance("prospolabs", KEY) == 10
    assert c.sim.ledger.inconsistencies() == []


def test_failed_sync_run_status_is_a_setting() -> None:
    c = SimClient([SPEC.with_settings({"sync_failure_status": 502})])
    assert c.post(GENERATE, headers=H, json=FAIL).status_code == 502


def test_failed_async_run_is_refunded_when_it_fails() -> None:
    c = SimClient([SPEC])
    gid = c.post(GENERATE, headers=H, json={**FAIL, "async": True}).json()["generation_id"]
    assert c.sim.ledger.balance("prospolabs", KEY) == Decimal("9.5")
    c.advance(3600)
    body = poll(c, gid)
    assert body["status"] == "failed" and body["error"]["code"] == "generation_failed"
    assert entries(c) == [("topup", 10.0), ("charge", 0.5), ("refund", 0.5)]
    assert c.sim.ledger.balance("prospolabs", KEY) == 10


def test_output_url_serves_for_seven_days_then_answers_410_output_expired() -> None:
    c = SimClient([SPEC])
    url = c.post(GENERATE, headers=H, json=BASE).json()["output_url"]
    c.advance(WEEK - 1)
    assert c.get(url).status_code == 200
    c.advance(2)
    expired = c.get(url)
    assert expired.status_code == 410 and expired.json() == {"code": "output_expired"}


def test_flat_body_and_params_object_make_the_same_job() -> None:
    fields = {
        "prompt": "a fox",
        "quality": "pro",
        "generate_audio": True,
        "duration": 7,
        "aspect_ratio": "9:16",
    }
    flat, nested = SimClient([SPEC], seed=3), SimClient([SPEC], seed=3)
    a = flat.post(GENERATE, headers=H, json={"model": "kling-o3", "mode": "text", **fields}).json()
    b = nested.post(GENERATE, headers=H, json={"model": "kling-o3", "mode": "text", "params": fields}).json()
    assert a == {**b, "output_url": a["output_url"]} and a["generation_id"] == b["generation_id"]
    job_a = flat.sim.engine.get("prospolabs", a["generation_id"])
    job_b = nested.sim.engine.get("prospolabs", b["generation_id"])
    assert job_a is not None and job_b is not None
    assert job_a.request == job_b.request and job_a.plan == job_b.plan and job_a.cost == job_b.cost


def test_params_object_wins_over_top_level_model_params() -> None:
    c = SimClient([SPEC])
    body = {"model": "kling-o3", "quality": "pro", "duration": 15, "params": {"prompt": "a fox"}}
    assert c.post(GENERATE, headers=H, json=body).json()["estimated_cost_usd"] == 0.5  # standard, 5 s


def test_output_follows_quality_audio_and_aspect_ratio() -> None:
    c = SimClient([SPEC])
    gid = c.post(
        GENERATE, headers=H, json={**BASE, "quality": "pro", "generate_audio": True, "aspect_ratio": "1:1"}
    ).json()["generation_id"]
    job = c.sim.engine.get("prospolabs", gid)
    assert job is not None
    assert (job.plan.output.lines, job.plan.output.audio, job.plan.output.aspect_ratio) == (1080, True, "1:1")


def test_image_mode_keeps_its_frames() -> None:
    c = SimClient([SPEC])
    frames = {"image_url": "https://example.com/a.png", "end_image_url": "https://example.com/b.png"}
    body = c.post(GENERATE, headers=H, json={**BASE, "mode": "image", **frames}).json()
    assert body["mode"] == "image" and body["status"] == "completed"
    job = c.sim.engine.get("prospolabs", body["generation_id"])
    assert job is not None and {k: job.request[k] for k in frames} == frames


def test_webhook_url_is_accepted_and_declared_as_the_callback_field() -> None:
    c = SimClient([SPEC])
    body = {**BASE, "async": True, "webhook_url": "https://hooks.example.com/prospolabs"}
    assert c.post(GENERATE, headers=H, json=body).json()["status"] == "queued"
    assert SPEC.callbacks is not None and SPEC.callbacks.field == "webhook_url"
