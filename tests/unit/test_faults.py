"""Faults: next-N and seeded-rate errors in each provider's envelope, latency, jobs that fail or stick,
the X-Klingsim-Fault header and the prompt marker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from klingsim.core.clock import RealClock
from klingsim.core.faults import FaultRegistry, FaultSpec
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL, kling3api
from klingsim.server.app import KlingsimApp
from tests.support import SimClient, bearer
from tests.unit.provider_cases import create, status

KEY = "k3a_live_0123456789abcdef"
BODY = {"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains at sunrise", "duration": 5}
SPEC = kling3api.SPEC
INJECTABLE = (401, 402, 429, 500, 502, 503)


@pytest.fixture
def client() -> SimClient:
    return SimClient([SPEC])


def generate(
    client: SimClient, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(
        "/kling3api/api/generate", json=body or BODY, headers={**bearer(KEY), **(headers or {})}
    )


def test_next_n_creates_fail_with_the_documented_429_and_retry_after(client: SimClient) -> None:
    client.sim.faults.add(FaultSpec("kling3api", "create", "RATE_LIMITED", count=2))
    for _ in range(2):
        answer = generate(client)
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "60"
        assert answer.json()["error"] == "RATE_LIMITED" and answer.json()["data"] is None
    assert generate(client).status_code == 200
    kinds = [str(e.kind) for e in client.sim.ledger.entries("kling3api", KEY)]
    assert kinds.count("charge") == 1  # the failed attempts cost nothing
    assert client.sim.faults.list() == []  # a spent count fault goes away


def test_a_fault_only_hits_its_endpoint(client: SimClient) -> None:
    client.sim.faults.add(FaultSpec("kling3api", "status", "INTERNAL_ERROR", count=1))
    answer = generate(client)
    assert answer.status_code == 200
    task_id = answer.json()["data"]["task_id"]
    hit = client.get("/kling3api/api/status", params={"task_id": task_id}, headers=bearer(KEY))
    assert hit.status_code == 500 and hit.json()["error"] == "INTERNAL_ERROR"
    again = client.get("/kling3api/api/status", params={"task_id": task_id}, headers=bearer(KEY))
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("provider", "code"),
    [(s.id, e.code) for s in ALL for e in s.errors if e.status in INJECTABLE],
)
def test_every_injectable_error_comes_in_the_providers_envelope(provider: str, code: str) -> None:
    spec = next(s for s in ALL if s.id == provider)
    client = SimClient([spec])
    client.sim.faults.add(FaultSpec(provider, "create", code, count=1))
    answer, job_id = create(client, spec, spec.auth.example_key)
    rt = client.sim.runtimes[provider]
    expected = client.sim.error(rt, code, "Injected by a klingsim fault")
    assert answer.status_code == expected.status == spec.error(code).status
    body = answer.json()
    if spec.envelope.answer_ids:  # a fresh id per answer (Kling's request_id): equal apart from it
        assert body.pop("request_id") != expected.body.pop("request_id")
    assert body == expected.body
    # fal is the one provider whose documented error body is FastAPI's `{"detail": ...}`.
    assert ("detail" not in body or spec.id == "fal") and job_id == ""
    if spec.error(code).status == 429:
        assert answer.headers["retry-after"].isdigit()


def test_status_classes_are_all_reachable_somewhere() -> None:
    statuses = {e.status for s in ALL for e in s.errors}
    assert {401, 402, 429, 500} <= statuses  # 502/503 exist where a provider documents them


def test_a_rate_fails_a_seeded_fraction_the_same_way_every_run() -> None:
    def outcomes(seed: int) -> list[int]:
        client = SimClient([SPEC], seed=seed)
        client.sim.faults.add(FaultSpec("kling3api", "status", "INTERNAL_ERROR", rate=0.3))
        return [
            client.get(
                "/kling3api/api/status", params={"task_id": "n75000000000000"}, headers=bearer(KEY)
            ).status_code
            for _ in range(200)
        ]

    first = outcomes(1)
    assert first == outcomes(1)
    assert first != outcomes(2)
    failed = first.count(500)
    assert 35 <= failed <= 85  # 30 % of 200, loosely
    assert set(first) == {404, 500}


def test_latency_on_a_virtual_clock_delays_the_answer_and_is_recorded(client: SimClient) -> None:
    client.sim.faults.add(FaultSpec("kling3api", "create", latency_ms=150))
    started = time.perf_counter()
    assert generate(client).status_code == 200
    assert time.perf_counter() - started >= 0.15
    entry = client.get("/_klingsim/requests").json()["requests"][-1]
    assert entry["latency_ms"] == 150
    assert client.sim.clock.now() == client.clock.now()  # waiting did not move the virtual clock


def test_a_delayed_answer_does_not_hold_up_other_clients() -> None:
    sim = Simulator([SPEC], secret=b"s")  # a virtual clock
    sim.faults.add(FaultSpec("kling3api", "create", latency_ms=600, count=1))

    async def both() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=KlingsimApp(sim))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            started = time.perf_counter()

            async def slow() -> float:
                await http.post("/kling3api/api/generate", json=BODY, headers=bearer(KEY))
                return time.perf_counter() - started

            async def quick() -> float:
                await asyncio.sleep(0.05)
                await http.get("/kling3api/api/status", params={"task_id": "n7500"}, headers=bearer(KEY))
                return time.perf_counter() - started

            slow_took, quick_took = await asyncio.gather(slow(), quick())
            return slow_took, quick_took

    slow_took, quick_took = asyncio.run(both())
    assert slow_took >= 0.6 and quick_took < 0.4


def test_latency_beyond_five_minutes_or_not_finite_is_refused() -> None:
    registry = FaultRegistry()
    for latency in (300_001.0, float("nan"), float("inf"), (0.0, float("inf"))):
        with pytest.raises(ValueError, match="latency_ms"):
            registry.add(FaultSpec("kling3api", latency_ms=latency))


def test_ranged_latency_is_drawn_within_bounds() -> None:
    registry = FaultRegistry(seed=3)
    registry.add(FaultSpec("kling3api", latency_ms=(100, 200)))
    delays = [hit.delay_seconds for hit in (registry.take("kling3api", "status") for _ in range(50)) if hit]
    assert len(delays) == 50 and all(0.1 <= d <= 0.2 for d in delays)
    assert len(set(delays)) > 10


def test_latency_on_a_real_clock_delays_the_answer() -> None:
    sim = Simulator([SPEC], RealClock(), secret=b"s")
    sim.faults.add(FaultSpec("kling3api", "status", latency_ms=120, count=1))

    async def timed() -> float:
        transport = httpx.ASGITransport(app=KlingsimApp(sim))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            started = time.perf_counter()
            await http.get(
                "/kling3api/api/status", params={"task_id": "n75000000000000"}, headers=bearer(KEY)
            )
            return time.perf_counter() - started

    assert asyncio.run(timed()) >= 0.12


def test_jobs_fail_after_running_with_the_faults_failure_code(client: SimClient) -> None:
    client.sim.faults.add(FaultSpec("kling3api", "create", job_failure="generation_timeout", count=1))
    failing = generate(client).json()["data"]["task_id"]
    fine = generate(client).json()["data"]["task_id"]
    assert client.get(f"/_klingsim/jobs/kling3api/{failing}").json()["status"] == "IN_PROGRESS"
    client.advance(3600)
    timeline = client.get(f"/_klingsim/jobs/kling3api/{failing}").json()
    assert [t["phase"] for t in timeline["transitions"]] == ["queued", "running", "failed"]
    assert timeline["error"]["code"] == "generation_timeout"
    assert [e["kind"] for e in timeline["ledger"]] == ["charge", "refund"]
    assert client.get(f"/_klingsim/jobs/kling3api/{fine}").json()["status"] == "SUCCESS"


@pytest.mark.parametrize("state", ["queued", "running"])
def test_jobs_stuck_in_a_state_stay_there(client: SimClient, state: str) -> None:
    client.sim.faults.add(FaultSpec("kling3api", "create", stuck=state, count=1))
    task_id = generate(client).json()["data"]["task_id"]
    client.advance(7 * 86_400)
    timeline = client.get(f"/_klingsim/jobs/kling3api/{task_id}").json()
    assert timeline["phase"] == state and timeline["stuck"] is True
    data = client.get("/kling3api/api/status", params={"task_id": task_id}, headers=bearer(KEY)).json()
    assert data["data"]["status"] == "IN_PROGRESS"


def test_the_fault_header_fails_that_request_only(client: SimClient) -> None:
    answer = generate(client, headers={"X-Klingsim-Fault": "INSUFFICIENT_CREDITS"})
    assert answer.status_code == 402 and answer.json()["error"] == "INSUFFICIENT_CREDITS"
    assert generate(client).status_code == 200
    assert client.sim.ledger.balance("kling3api", KEY) == 10_000 - 400


def test_an_unknown_fault_header_code_is_a_clear_400(client: SimClient) -> None:
    answer = generate(client, headers={"X-Klingsim-Fault": "NOPE"})
    assert answer.status_code == 400
    assert "X-Klingsim-Fault" in answer.json()["message"] and "RATE_LIMITED" in answer.json()["message"]


def test_the_prompt_marker_fails_the_job_after_it_runs(client: SimClient) -> None:
    body = {**BODY, "prompt": "mountains [klingsim:fail=content_policy_violation]"}
    task_id = generate(client, body).json()["data"]["task_id"]
    client.advance(3600)
    assert (
        client.get(f"/_klingsim/jobs/kling3api/{task_id}").json()["error"]["code"]
        == "content_policy_violation"
    )


@pytest.mark.parametrize("code", ["content_policy_violation", "generation_timeout"])
def test_evolink_failure_codes_reach_the_task_object(code: str) -> None:
    spec = next((s for s in ALL if s.id == "evolink"), None)
    if spec is None:
        pytest.fail("evolink is expected among the providers")
    client = SimClient([spec])
    client.sim.faults.add(FaultSpec("evolink", "create", job_failure=code, count=1))
    _, job_id = create(client, spec, spec.auth.example_key)
    client.advance(3600)
    task = status(client, spec, spec.auth.example_key, job_id).json()
    assert task["status"] == "failed" and task["error"]["code"] == code


def test_download_faults_answer_in_the_providers_envelope(client: SimClient) -> None:
    task_id = generate(client).json()["data"]["task_id"]
    client.advance(3600)
    url = client.get("/kling3api/api/status", params={"task_id": task_id}, headers=bearer(KEY)).json()[
        "data"
    ]["response"][0]
    client.sim.faults.add(FaultSpec("kling3api", "download", "INTERNAL_ERROR", count=1))
    failed = client.get(url)
    assert failed.status_code == 500 and failed.json()["error"] == "INTERNAL_ERROR"
    assert client.get(url).status_code == 200


def test_faults_of_one_provider_leave_others_alone() -> None:
    client = SimClient()
    client.sim.faults.add(FaultSpec("evolink", "*", "internal_server_error"))
    assert generate(client).status_code == 200
