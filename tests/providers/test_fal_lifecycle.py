"""fal requests on the virtual clock: queue, progress, completion, cancel, the synchronous host, webhooks and
the 7-day output lifetime."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.kling_auth import FAL_KEY, fal_headers
from tests.support import SimClient

H = fal_headers()
T2V = "/fal/fal-ai/kling-video/o3/standard/text-to-video"
DAY = 24 * 3600


def balance(c: SimClient) -> Decimal:
    return Decimal(str(c.get(f"/_klingsim/accounts/fal/{FAL_KEY}").json()["balance"]))


def test_a_request_spends_at_least_a_second_in_the_queue() -> None:
    c = SimClient()
    answer = c.post(T2V, headers=H, json={"prompt": "x"}).json()
    job = c.sim.engine.get("fal", answer["request_id"])
    assert job is not None and job.run_at - job.created_at >= 1
    assert c.get(answer["status_url"], headers=H).json()["status"] == "IN_QUEUE"
    c.clock.set(job.run_at)
    running = c.get(answer["status_url"], headers=H)
    assert running.status_code == 202 and running.json()["status"] == "IN_PROGRESS"
    c.clock.set(job.finish_at)
    assert c.get(answer["status_url"], headers=H).status_code == 200


def test_cancel_while_in_progress_ends_with_an_error_and_releases_the_hold() -> None:
    c = SimClient()
    answer = c.post(T2V, headers=H, json={"prompt": "x"}).json()
    assert balance(c) == Decimal(10) - Decimal("0.42")  # held at submit
    job = c.sim.engine.get("fal", answer["request_id"])
    assert job is not None
    c.clock.set(job.run_at)
    cancel = c.request("PUT", answer["cancel_url"], headers=H)
    assert cancel.status_code == 202 and cancel.json() == {"status": "CANCELLATION_REQUESTED"}
    status = c.get(answer["status_url"], headers=H).json()
    assert status["status"] == "COMPLETED" and status["error"]
    assert balance(c) == Decimal(10)
    again = c.request("PUT", answer["cancel_url"], headers=H)
    assert again.status_code == 400 and again.json() == {"status": "ALREADY_COMPLETED"}


def test_success_captures_the_hold() -> None:
    c = SimClient()
    c.post(T2V, headers=H, json={"prompt": "x", "generate_audio": True})
    c.advance(3600)
    assert balance(c) == Decimal(10) - Decimal("0.56")


def test_the_synchronous_host_answers_the_result_directly() -> None:
    c = SimClient()
    response = c.post(
        "/fal/run/fal-ai/kling-video/o3/standard/text-to-video", headers=H, json={"prompt": "x"}
    )
    assert response.status_code == 200, response.text
    video = response.json()["video"]
    assert video["content_type"] == "video/mp4" and video["file_size"] == len(c.get(video["url"]).content)
    assert response.headers["x-fal-billable-units"] == "5"
    assert balance(c) == Decimal(10) - Decimal("0.42")


def test_the_synchronous_host_validates_like_the_queue() -> None:
    response = SimClient().post("/fal/run/fal-ai/kling-video/o3/standard/text-to-video", headers=H, json={})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "prompt"]


def test_outputs_expire_seven_days_after_completion() -> None:
    c = SimClient()
    answer = c.post(T2V, headers=H, json={"prompt": "x"}).json()
    c.advance(3600)
    url = c.get(answer["response_url"], headers=H).json()["video"]["url"]
    c.advance(7 * DAY - 3600)
    assert c.get(url).status_code == 200
    c.advance(3601)
    assert c.get(url).status_code == 404


def test_a_failed_request_webhook_is_error_with_the_error_body() -> None:
    sent: list[dict[str, Any]] = []

    def transport(
        url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        sent.append(payload)
        return 200, None

    c = SimClient(callback_transport=transport)
    path = T2V + "?fal_webhook=https://hooks.example.com/fal"
    c.post(path, headers=H, json={"prompt": "x [klingsim:fail=runner_disconnected]"})
    c.advance(3600)
    assert len(sent) == 1 and sent[0]["status"] == "ERROR" and sent[0]["error"]
    assert sent[0]["payload"]["error_type"] == "runner_disconnected"


def test_webhook_retries_follow_the_documented_budget() -> None:
    calls: list[str] = []

    def transport(
        url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        calls.append(url)
        return 500, None

    c = SimClient(callback_transport=transport)
    c.post(T2V + "?fal_webhook=https://hooks.example.com/fal", headers=H, json={"prompt": "x"})
    for _ in range(200):
        c.advance(60)
    assert len(calls) == 11  # the first attempt and 10 retries, all within two hours
    deliveries = c.get("/_klingsim/callbacks", params={"provider": "fal"}).json()["deliveries"]
    assert sum(deliveries[0]["retry_delays"]) <= 7200


def test_a_webhook_url_breaking_the_url_rules_is_refused() -> None:
    c = SimClient()
    response = c.post(T2V + "?fal_webhook=http://127.0.0.1/hook", headers=H, json={"prompt": "x"})
    assert response.status_code == 422
