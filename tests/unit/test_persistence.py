"""Persistence: SQLite keeps jobs, ledgers, keys, deliveries and the virtual clock across restarts (also
after SIGKILL); memory stays the default and bounded."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.core.store import SqliteStore
from klingsim.providers import kling3api
from klingsim.server.app import KlingsimApp
from klingsim.spec import CallbackPolicy, inferred
from tests.support import SimClient, bearer

KEY = "k3a_live_0123456789abcdef"
BODY = {"type": "pro-text-to-video", "prompt": "mountains", "duration": 5}
HOOKED = dataclasses.replace(kling3api.SPEC, callbacks=CallbackPolicy("callback_url", inferred("test")))


def client_on(db: Path, **options: Any) -> SimClient:
    """A SimClient whose simulator keeps its state in `db` (restored when the file exists)."""
    client = SimClient([HOOKED], **options)
    client.clock = VirtualClock()
    client.sim = Simulator([HOOKED], client.clock, secret=b"test-secret", store=SqliteStore(db), **options)
    client.app = KlingsimApp(client.sim)
    return client


def generate(client: SimClient, **extra: Any) -> str:
    answer = client.post("/kling3api/api/generate", json={**BODY, **extra}, headers=bearer(KEY))
    assert answer.status_code == 200, answer.text
    task_id: str = answer.json()["data"]["task_id"]
    return task_id


def poll(client: SimClient, task_id: str) -> httpx.Response:
    return client.get("/kling3api/api/status", params={"task_id": task_id}, headers=bearer(KEY))


def test_jobs_ledger_keys_and_clock_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = client_on(db)
    first.sim.set_balance("kling3api", KEY, Decimal(5000), account="team")
    done = generate(first)
    first.advance(3600)
    pending = generate(first)
    failing = generate(first, prompt="x [klingsim:fail=content_policy_violation]")
    entries = [e.as_json() for e in first.sim.ledger.entries("kling3api", "team")]
    now = first.clock.now()
    first.sim.store.close()

    second = client_on(db)
    assert second.clock.now() == now
    assert [e.as_json() for e in second.sim.ledger.entries("kling3api", "team")] == entries
    assert second.sim.keys.account_of("kling3api", KEY) == "team"
    assert poll(second, done).json()["data"]["status"] == "SUCCESS"
    assert poll(second, pending).json()["data"]["status"] == "IN_PROGRESS"
    second.advance(3600)  # unfinished jobs were rescheduled
    assert poll(second, pending).json()["data"]["status"] == "SUCCESS"
    assert poll(second, failing).json()["data"]["status"] == "FAILED"
    assert second.sim.ledger.inconsistencies() == []
    assert generate(second) not in (done, pending, failing)  # the id sequence continues


def test_pending_callback_deliveries_resume_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = client_on(db)
    first.sim.callbacks.transport = lambda url, payload, headers, timeout: (500, None)
    task_id = generate(first, callback_url="https://hooks.example.com/x")
    job = first.sim.engine.get("kling3api", task_id)
    assert job is not None
    first.advance(job.finish_at - first.clock.now())
    assert len(first.sim.callbacks.list()[0].attempts) == 1
    first.sim.store.close()

    second = client_on(db)
    calls: list[str] = []

    def ok(url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float) -> tuple[int, None]:
        calls.append(headers["x-klingsim-attempt"])
        return 200, None

    second.sim.callbacks.transport = ok
    second.advance(1)
    delivery = second.get("/_klingsim/callbacks").json()["deliveries"][0]
    assert calls == ["2"] and delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 200]


def test_reset_empties_the_database_too(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = client_on(db)
    generate(first)
    first.post("/_klingsim/reset")
    first.sim.store.close()
    second = client_on(db)
    assert list(second.sim.engine.jobs()) == [] and second.sim.ledger.entries("kling3api", KEY) == ()


def test_memory_is_bounded_oldest_finished_jobs_first() -> None:
    client = SimClient([kling3api.SPEC], max_finished_jobs=2)
    ids = []
    for _ in range(3):
        ids.append(generate(client))
        client.advance(3600)
    assert poll(client, ids[0]).status_code == 404
    assert [poll(client, i).status_code for i in ids[1:]] == [200, 200]
    unfinished = generate(client)
    assert poll(client, unfinished).status_code == 200  # unfinished jobs are never evicted


# ----------------------------------------------------------------- a real server killed with SIGKILL
def _start(db: Path) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable,
        "-m",
        "klingsim.cli",
        "serve",
        "--port",
        "0",
        "--clock",
        "virtual",
        "--quiet",
        "--db",
        str(db),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # printed once the socket listens
    url = first.split(" on ", 1)[1].split()[0] if " on " in first else ""
    for _ in range(200 if url else 0):  # bounded: at most ~10 s
        try:
            if httpx.get(f"{url}/_klingsim/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    output = _stop(proc, signal.SIGKILL)
    pytest.fail(f"the server did not become healthy: {first!r} {output}")


def _stop(proc: subprocess.Popen[str], how: signal.Signals) -> str:
    if proc.poll() is None:
        os.kill(proc.pid, how)
    output, _ = proc.communicate(timeout=10)  # also closes the pipe
    return output


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_no_acknowledged_job_or_entry_is_lost_after_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "klingsim.db"
    proc, url = _start(db)
    try:
        with httpx.Client(base_url=url, headers=bearer(KEY), timeout=10) as http:
            ids = [
                http.post("/kling3api/api/generate", json=BODY).json()["data"]["task_id"] for _ in range(5)
            ]
            http.post("/_klingsim/clock/advance", json={"seconds": 30})
            account = http.get(f"/_klingsim/accounts/kling3api/{KEY}").json()
            clock = http.get("/_klingsim/clock").json()["now"]
    finally:
        _stop(proc, signal.SIGKILL)  # no shutdown, no flush: only what was committed survives
    assert len(account["entries"]) == 6  # a top-up and five charges were acknowledged
    proc, url = _start(db)
    try:
        with httpx.Client(base_url=url, headers=bearer(KEY), timeout=10) as http:
            assert http.get("/_klingsim/clock").json()["now"] == clock
            assert http.get(f"/_klingsim/accounts/kling3api/{KEY}").json()["entries"] == account["entries"]
            for task_id in ids:
                assert http.get("/kling3api/api/status", params={"task_id": task_id}).status_code == 200
            http.post("/_klingsim/clock/advance", json={"seconds": 3600})
            statuses = {
                http.get("/kling3api/api/status", params={"task_id": t}).json()["data"]["status"] for t in ids
            }
            assert statuses == {"SUCCESS"}
            assert json.loads(http.get(f"/_klingsim/jobs/kling3api/{ids[0]}").text)["phase"] == "succeeded"
    finally:
        _stop(proc, signal.SIGTERM)


def test_a_kling_secret_key_survives_a_restart(tmp_path: Path) -> None:
    from klingsim.providers import kling
    from tests.kling_auth import ACCESS_KEY, SECRET_KEY, kling_headers

    def on(db: Path) -> SimClient:
        client = SimClient([kling.SPEC])
        client.clock = VirtualClock()
        client.sim = Simulator([kling.SPEC], client.clock, secret=b"test-secret", store=SqliteStore(db))
        client.app = KlingsimApp(client.sim)
        return client

    def create(client: SimClient, secret: str) -> httpx.Response:
        body = {"prompt": "a lighthouse at dusk"}
        return client.post("/kling/v1/videos/text2video", json=body, headers=kling_headers(secret_key=secret))

    db = tmp_path / "state.db"
    first = on(db)
    put = first.request(
        "PUT", f"/_klingsim/accounts/kling/{ACCESS_KEY}", json={"balance": 100, "secret_key": SECRET_KEY}
    )
    assert put.status_code == 200, put.text
    first.sim.store.close()

    second = on(db)
    assert second.sim.keys.secret_of("kling", ACCESS_KEY) == SECRET_KEY
    refused = create(second, "not-the-secret")  # signatures are still verified after the restart
    assert refused.status_code == 401 and refused.json()["code"] == 1000
    assert create(second, SECRET_KEY).json()["code"] == 0
    second.post("/_klingsim/reset")  # a reset forgets the secret in the database too
    second.sim.store.close()
    assert on(db).sim.keys.secret_of("kling", ACCESS_KEY) is None
