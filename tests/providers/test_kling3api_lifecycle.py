"""kling3api on the virtual clock: transitions by time, refunds on FAILED, output URLs that expire."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support import SimClient, bearer

KEY = "k3a_test_0123456789abcdef"
H = bearer(KEY)
T2V = {"type": "pro-text-to-video", "prompt": "mountains", "duration": 5}


def status(client: SimClient, task_id: str) -> dict[str, Any]:
    data: dict[str, Any] = client.get("/kling3api/api/status", headers=H, params={"task_id": task_id}).json()[
        "data"
    ]
    return data


def test_jobs_move_by_clock_time_not_by_polls() -> None:
    client = SimClient()
    task_id = client.post("/kling3api/api/generate", headers=H, json=T2V).json()["data"]["task_id"]
    for _ in range(50):
        assert status(client, task_id)["status"] == "IN_PROGRESS"
    words = []
    for _ in range(120):
        client.advance(5)
        words.append(status(client, task_id)["status"])
    assert words[0] == "IN_PROGRESS" and words[-1] == "SUCCESS"
    first_success = words.index("SUCCESS")
    assert set(words[:first_success]) == {"IN_PROGRESS"} and set(words[first_success:]) == {"SUCCESS"}


def test_render_durations_are_seeded_and_deterministic() -> None:
    def finish_times(seed: int) -> list[float]:
        client = SimClient(seed=seed)
        for _ in range(5):
            client.post("/kling3api/api/generate", headers=H, json=T2V)
        return [job.finish_at for job in client.sim.engine.jobs()]

    assert finish_times(1) == finish_times(1)
    assert finish_times(1) != finish_times(2)


def test_failed_jobs_are_refunded_once_and_keep_consumed_credits() -> None:
    client = SimClient()
    body = {**T2V, "prompt": "mountains [klingsim:fail=INTERNAL_ERROR]"}
    task_id = client.post("/kling3api/api/generate", headers=H, json=body).json()["data"]["task_id"]
    assert client.sim.ledger.balance("kling3api", KEY) == 10_000 - 400
    client.advance(3600)
    data = status(client, task_id)
    assert data["status"] == "FAILED" and data["response"] == [] and data["error_message"]
    assert data["consumed_credits"] == 400
    assert client.sim.ledger.balance("kling3api", KEY) == 10_000
    kinds = [e.kind for e in client.sim.ledger.entries("kling3api", KEY)]
    assert kinds == ["topup", "charge", "refund"]
    client.advance(3600)
    assert status(client, task_id)["status"] == "FAILED"
    assert client.sim.ledger.balance("kling3api", KEY) == 10_000
    assert client.sim.ledger.inconsistencies() == []


def test_successful_jobs_keep_their_charge() -> None:
    client = SimClient()
    client.post("/kling3api/api/generate", headers=H, json=T2V)
    client.advance(3600)
    assert client.sim.ledger.balance("kling3api", KEY) == 10_000 - 400
    assert [e.kind for e in client.sim.ledger.entries("kling3api", KEY)] == ["topup", "charge"]


def finished_url(client: SimClient) -> str:
    task_id = client.post("/kling3api/api/generate", headers=H, json=T2V).json()["data"]["task_id"]
    client.advance(3600)
    url: str = status(client, task_id)["response"][0]
    return url


def test_output_url_serves_an_mp4_until_it_expires_on_the_clock() -> None:
    client = SimClient()
    url = finished_url(client)
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}"
    expires = int(dict(p.split("=") for p in parts.query.split("&"))["expires"])
    ok = client.get(path)
    assert ok.status_code == 200 and ok.headers["content-type"] == "video/mp4"
    assert ok.content[4:8] == b"ftyp"
    client.sim.clock.set(expires)  # type: ignore[attr-defined]
    assert client.get(path).status_code == 200
    client.advance(1)
    gone = client.get(path)
    assert gone.status_code == 404 and gone.json()["error"] == "NOT_FOUND"


@pytest.mark.parametrize("tamper", ["signature", "expires", "index", "job"])
def test_tampered_urls_are_refused_whatever_the_clock_says(tamper: str) -> None:
    client = SimClient()
    url = finished_url(client)
    parts = urlsplit(url)
    query = dict(p.split("=") for p in parts.query.split("&"))
    path = parts.path
    if tamper == "signature":
        query["signature"] = ("0" if query["signature"][0] != "0" else "1") + query["signature"][1:]
    elif tamper == "expires":
        query["expires"] = str(int(query["expires"]) + 86400 * 365)
    elif tamper == "index":
        path = path.replace("/0.mp4", "/1.mp4")
    else:
        path = path.replace("/n75", "/n71")
    forged = client.get(path + "?" + "&".join(f"{k}={v}" for k, v in query.items()))
    assert forged.status_code == 403
    client.advance(86400 * 30)
    assert client.get(path + "?" + "&".join(f"{k}={v}" for k, v in query.items())).status_code == 403
