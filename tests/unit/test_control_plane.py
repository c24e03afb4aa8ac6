"""The control plane beyond clock and accounts: job timelines, forced outcomes, faults, journal, OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest

from klingsim.providers import kling3api
from tests.support import SimClient, bearer

KEY = "k3a_live_0123456789abcdef"
OTHER = "k3a_live_fedcba9876543210"
BODY = {"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains at sunrise", "duration": 5}


@pytest.fixture
def client() -> SimClient:
    return SimClient([kling3api.SPEC])


def create(client: SimClient, body: dict[str, Any] | None = None, key: str = KEY) -> str:
    response = client.post("/kling3api/api/generate", json=body or BODY, headers=bearer(key))
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"]["task_id"]
    return task_id


def status(client: SimClient, task_id: str, key: str = KEY) -> dict[str, Any]:
    response = client.get("/kling3api/api/status", params={"task_id": task_id}, headers=bearer(key))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_timeline_lists_transitions_ledger_and_outputs(client: SimClient) -> None:
    task_id = create(client)
    client.advance(600)
    timeline = client.get(f"/_klingsim/jobs/kling3api/{task_id}").json()
    phases = [t["phase"] for t in timeline["transitions"]]
    assert phases == ["queued", "running", "succeeded"]
    times = [t["at"] for t in timeline["transitions"]]
    assert times == sorted(times) and times[0] < times[-1]
    assert [t["status"] for t in timeline["transitions"]] == ["IN_PROGRESS", "IN_PROGRESS", "SUCCESS"]
    assert [e["kind"] for e in timeline["ledger"]] == ["charge"]
    assert timeline["ledger"][0]["amount"] == 400
    assert len(timeline["outputs"]) == 1 and "/_klingsim/files/kling3api/" in timeline["outputs"][0]
    assert timeline["callbacks"] == [] and timeline["next"] is None
    assert timeline["task"]["data"]["status"] == "SUCCESS"


def test_timeline_of_a_running_job_says_what_comes_next(client: SimClient) -> None:
    task_id = create(client)
    timeline = client.get(f"/_klingsim/jobs/kling3api/{task_id}").json()
    assert timeline["next"]["phase"] in ("running", "succeeded")
    assert timeline["next"]["at"] > client.clock.now()


def test_timeline_of_an_unknown_job_is_404(client: SimClient) -> None:
    response = client.get("/_klingsim/jobs/kling3api/n75000000000000")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_forced_failure_refunds_and_reports_the_code(client: SimClient) -> None:
    task_id = create(client)
    answer = client.post(
        f"/_klingsim/jobs/kling3api/{task_id}/outcome",
        json={"status": "failed", "error": "content_policy_violation", "message": "flagged"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["error"] == {"code": "content_policy_violation", "message": "flagged"}
    data = status(client, task_id)
    assert data["status"] == "FAILED" and data["error_message"] == "flagged"
    kinds = [e["kind"] for e in client.get(f"/_klingsim/accounts/kling3api/{KEY}").json()["entries"]]
    assert kinds == ["topup", "charge", "refund"]
    assert client.sim.ledger.inconsistencies() == []


def test_forced_success_accepts_the_provider_word(client: SimClient) -> None:
    task_id = create(client)
    answer = client.post(f"/_klingsim/jobs/kling3api/{task_id}/outcome", json={"status": "SUCCESS"})
    assert answer.status_code == 200
    assert status(client, task_id)["status"] == "SUCCESS"
    again = client.post(f"/_klingsim/jobs/kling3api/{task_id}/outcome", json={"status": "failed"})
    assert again.status_code == 409 and again.json()["error"] == "job_finished"


def test_forced_failure_without_code_uses_the_default_failure_code(client: SimClient) -> None:
    task_id = create(client)
    answer = client.post(f"/_klingsim/jobs/kling3api/{task_id}/outcome", json={"status": "failed"})
    assert answer.json()["error"]["code"] == "INTERNAL_ERROR"


@pytest.mark.parametrize(
    "body", [{"status": "done"}, {"status": "failed", "error": "bad code!"}, {"state": "failed"}]
)
def test_outcome_rejects_unknown_statuses_and_codes(client: SimClient, body: dict[str, Any]) -> None:
    task_id = create(client)
    answer = client.post(f"/_klingsim/jobs/kling3api/{task_id}/outcome", json=body)
    assert answer.status_code == 400
    assert "detail" not in answer.json()


def test_stuck_job_stays_until_an_outcome_is_forced(client: SimClient) -> None:
    task_id = create(client)
    assert (
        client.post(f"/_klingsim/jobs/kling3api/{task_id}/outcome", json={"status": "stuck"}).status_code
        == 200
    )
    client.advance(86_400)
    assert status(client, task_id)["status"] == "IN_PROGRESS"
    client.post(f"/_klingsim/jobs/kling3api/{task_id}/outcome", json={"status": "succeeded"})
    assert status(client, task_id)["status"] == "SUCCESS"


def test_faults_are_added_listed_and_removed(client: SimClient) -> None:
    first = client.post(
        "/_klingsim/faults",
        json={"provider": "kling3api", "endpoint": "create", "error": "RATE_LIMITED", "count": 2},
    )
    assert first.status_code == 200
    second = client.post("/_klingsim/faults", json={"provider": "kling3api", "latency_ms": [10, 20]})
    listed = client.get("/_klingsim/faults").json()["faults"]
    assert [f["id"] for f in listed] == [first.json()["id"], second.json()["id"]]
    assert listed[0]["remaining"] == 2 and listed[1]["latency_ms"] == [10, 20]
    assert client.request("DELETE", f"/_klingsim/faults/{first.json()['id']}").status_code == 200
    assert client.request("DELETE", f"/_klingsim/faults/{first.json()['id']}").status_code == 404
    assert client.request("DELETE", "/_klingsim/faults").json() == {"cleared": 1}
    assert client.get("/_klingsim/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "nope", "error": "RATE_LIMITED"},
        {"provider": "kling3api", "error": "NO_SUCH_CODE"},
        {"provider": "kling3api"},
        {"provider": "kling3api", "error": "RATE_LIMITED", "count": 0},
        {"provider": "kling3api", "error": "RATE_LIMITED", "rate": 1.5},
        {"provider": "kling3api", "endpoint": "balance", "error": "RATE_LIMITED"},
        {"provider": "kling3api", "error": "RATE_LIMITED", "count": 1, "rate": 0.5},
        {"provider": "kling3api", "latency_ms": [5, 1]},
        {"provider": "kling3api", "stuck": "running", "endpoint": "status"},
        {"provider": "kling3api", "error": "RATE_LIMITED", "surprise": 1},
    ],
)
def test_malformed_faults_are_refused_clearly(client: SimClient, body: dict[str, Any]) -> None:
    answer = client.post("/_klingsim/faults", json=body)
    assert answer.status_code in (400, 404)
    assert answer.json()["message"]
    assert client.get("/_klingsim/faults").json() == {"faults": []}


def test_journal_records_requests_with_redacted_keys(client: SimClient) -> None:
    task_id = create(client)
    client.get("/kling3api/api/status", params={"task_id": task_id}, headers=bearer(KEY))
    entries = client.get("/_klingsim/requests").json()["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/api/generate", 200),
        ("GET", "/api/status", 200),
    ]
    created = entries[0]
    assert created["provider"] == "kling3api" and created["body"] == BODY
    assert created["response"]["data"]["task_id"] == task_id
    assert created["headers"]["authorization"] == "Bearer …cdef"
    assert KEY not in str(entries)
    assert entries[1]["query"] == {"task_id": task_id}
    assert entries[0]["at"] == client.clock.now()
    since = client.get("/_klingsim/requests", params={"since": created["seq"]}).json()["requests"]
    assert [e["seq"] for e in since] == [entries[1]["seq"]]


def test_journal_is_a_ring_buffer_of_the_configured_size() -> None:
    client = SimClient([kling3api.SPEC], journal_size=3)
    for _ in range(5):
        client.get("/kling3api/api/status", params={"task_id": "n75000000000000"}, headers=bearer(KEY))
    journal = client.get("/_klingsim/requests").json()
    assert journal["size"] == 3
    assert [e["seq"] for e in journal["requests"]] == [3, 4, 5]


def test_journal_keeps_unparseable_bodies_as_text(client: SimClient) -> None:
    client.post("/kling3api/api/generate", content=b"{not json", headers=bearer(KEY))
    entry = client.get("/_klingsim/requests").json()["requests"][-1]
    assert entry["body"] is None and entry["body_text"] == "{not json" and entry["status"] == 400


def test_reset_drops_faults_and_journal(client: SimClient) -> None:
    create(client)
    client.post("/_klingsim/faults", json={"provider": "kling3api", "error": "INTERNAL_ERROR"})
    client.post("/_klingsim/reset")
    assert client.get("/_klingsim/faults").json() == {"faults": []}
    assert client.get("/_klingsim/requests").json()["requests"] == []


def test_keys_put_in_one_account_share_its_balance(client: SimClient) -> None:
    client.request("PUT", f"/_klingsim/accounts/kling3api/{KEY}", json={"balance": 1000, "account": "team"})
    client.request("PUT", f"/_klingsim/accounts/kling3api/{OTHER}", json={"balance": 1000, "account": "team"})
    create(client, key=OTHER)
    assert client.get(f"/_klingsim/accounts/kling3api/{KEY}").json()["balance"] == 600


def test_control_plane_openapi_lists_every_route(client: SimClient) -> None:
    doc = client.get("/_klingsim/openapi.json").json()
    paths = set(doc["paths"])
    for path in (
        "/_klingsim/jobs/{provider}/{job_id}",
        "/_klingsim/jobs/{provider}/{job_id}/outcome",
        "/_klingsim/faults",
        "/_klingsim/faults/{fault_id}",
        "/_klingsim/requests",
        "/_klingsim/callbacks",
    ):
        assert path in paths
    assert {"get", "post", "delete"} <= set(doc["paths"]["/_klingsim/faults"])
