"""Callbacks: URL rules in every notation, delivery after billing, retries on the clock, real HTTP."""

from __future__ import annotations

import dataclasses
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from klingsim.core.callbacks import Transport
from klingsim.core.clock import RealClock
from klingsim.core.simulator import Simulator
from klingsim.core.worker import Ticker
from klingsim.providers import ALL, kling3api
from klingsim.spec import CallbackPolicy, ProviderSpec, inferred
from tests.support import SimClient, bearer
from tests.unit.provider_cases import create, status

KEY = "k3a_live_0123456789abcdef"
HOOKED = dataclasses.replace(
    kling3api.SPEC, callbacks=CallbackPolicy(field="callback_url", doc=inferred("test policy"))
)
BODY = {"type": "pro-text-to-video", "prompt": "mountains", "duration": 5}
GOOD = "https://hooks.example.com/klingsim"


class FakeReceiver:
    """A transport answering from a script of statuses; records what billing looked like at each call."""

    def __init__(self, client: SimClient, statuses: list[int]) -> None:
        self.client, self.statuses, self.calls = client, statuses, []  # type: ignore[var-annotated]

    def __call__(
        self, url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        job_id = payload["data"]["task_id"]
        kinds = [e.kind for e in self.client.sim.ledger.job_entries("kling3api", job_id)]
        self.calls.append({"url": url, "payload": payload, "at": self.client.clock.now(), "ledger": kinds})
        return (self.statuses.pop(0) if self.statuses else 200), None


def hooked_client(statuses: list[int], **options: Any) -> tuple[SimClient, FakeReceiver]:
    client = SimClient([HOOKED], **options)
    receiver = FakeReceiver(client, statuses)
    client.sim.callbacks.transport = receiver
    return client, receiver


def recording(urls: list[str]) -> Transport:
    """A transport that accepts everything and remembers where it was sent."""

    def send(url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float) -> tuple[int, None]:
        urls.append(url)
        return 200, None

    return send


def start(client: SimClient, url: str = GOOD) -> str:
    answer = client.post("/kling3api/api/generate", json={**BODY, "callback_url": url}, headers=bearer(KEY))
    assert answer.status_code == 200, answer.text
    task_id: str = answer.json()["data"]["task_id"]
    return task_id


def finish_time(client: SimClient, task_id: str) -> float:
    job = client.sim.engine.get("kling3api", task_id)
    assert job is not None
    return job.finish_at


REFUSED = [
    "http://hooks.example.com/x",
    "ftp://hooks.example.com/x",
    "https://127.0.0.1/x",
    "https://127.1/x",
    "https://2130706433/x",
    "https://0x7f000001/x",
    "https://0177.0.0.1/x",
    "https://localhost/x",
    "https://api.localhost./x",
    "https://[::1]/x",
    "https://[::ffff:127.0.0.1]/x",
    "https://[::ffff:a00:1]/x",
    "https://10.1.2.3/x",
    "https://172.16.0.1/x",
    "https://192.168.0.10/x",
    "https://169.254.169.254/latest/meta-data",
    "https://[fe80::1]/x",
    "https://[fc00::1]/x",
    "https://0.0.0.0/x",
    "https://100.64.0.1/x",
    "https://" + "a" * 2040 + ".com/",
    "not a url",
    "https:///nohost",
]


@pytest.mark.parametrize("url", REFUSED)
def test_bad_callback_urls_are_a_clear_400_before_billing(url: str) -> None:
    client, _ = hooked_client([])
    answer = client.post("/kling3api/api/generate", json={**BODY, "callback_url": url}, headers=bearer(KEY))
    assert answer.status_code == 400
    assert answer.json()["error"] == "INVALID_REQUEST" and "callback_url" in answer.json()["message"]
    assert [e.kind for e in client.sim.ledger.entries("kling3api", KEY)] == ["topup"]


def test_a_non_string_callback_url_is_refused() -> None:
    client, _ = hooked_client([])
    answer = client.post("/kling3api/api/generate", json={**BODY, "callback_url": 5}, headers=bearer(KEY))
    assert answer.status_code == 400


def test_exactly_2048_characters_is_accepted() -> None:
    client, _ = hooked_client([])
    url = "https://hooks.example.com/" + "a" * (2048 - len("https://hooks.example.com/"))
    assert len(url) == 2048
    start(client, url)


def test_the_http_switch_admits_loopback_but_not_private_addresses() -> None:
    client, _ = hooked_client([], allow_http_callbacks=True)
    start(client, "http://127.0.0.1:9/x")
    start(client, "http://localhost:9/x")
    refused = client.post(
        "/kling3api/api/generate", json={**BODY, "callback_url": "http://10.0.0.1/x"}, headers=bearer(KEY)
    )
    assert refused.status_code == 400


def test_providers_without_callbacks_ignore_the_field() -> None:
    client = SimClient([kling3api.SPEC])
    answer = client.post(
        "/kling3api/api/generate", json={**BODY, "callback_url": "http://10.0.0.1"}, headers=bearer(KEY)
    )
    assert answer.status_code == 200
    client.advance(3600)
    assert client.sim.callbacks.list() == []


def test_the_task_object_is_posted_once_billing_settled() -> None:
    client, receiver = hooked_client([])
    task_id = start(client)
    client.advance(3600)
    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    polled = client.get("/kling3api/api/status", params={"task_id": task_id}, headers=bearer(KEY)).json()
    assert call["payload"] == polled and call["url"] == GOOD
    failed_id = start(client)
    client.post(
        f"/_klingsim/jobs/kling3api/{failed_id}/outcome",
        json={"status": "failed", "error": "request_cancelled"},
    )
    assert receiver.calls[1]["payload"]["data"]["status"] == "FAILED"
    assert receiver.calls[1]["ledger"] == ["charge", "refund"]  # the refund came before the callback


def test_a_receiver_failing_twice_gets_retries_after_1_and_2_seconds() -> None:
    client, receiver = hooked_client([500, 503])
    task_id = start(client)
    done = finish_time(client, task_id)
    client.advance(done - client.clock.now())
    assert len(receiver.calls) == 1
    client.advance(0.5)
    assert len(receiver.calls) == 1  # retries wait for the clock
    client.advance(0.5)
    assert len(receiver.calls) == 2
    client.advance(2)
    assert len(receiver.calls) == 3
    deliveries = client.get("/_klingsim/callbacks").json()["deliveries"]
    assert len(deliveries) == 1 and deliveries[0]["state"] == "delivered"
    attempts = deliveries[0]["attempts"]
    assert [a["status"] for a in attempts] == [500, 503, 200]
    assert [a["due_at"] - done for a in attempts] == [0, 1, 3]
    timeline = client.get(f"/_klingsim/jobs/kling3api/{task_id}").json()
    assert timeline["callbacks"][0]["attempts"] == attempts


def test_three_retries_then_the_delivery_fails() -> None:
    client, receiver = hooked_client([500] * 10)
    task_id = start(client)
    done = finish_time(client, task_id)
    client.advance(3600)  # one advance past every retry runs them all, at their own clock times
    delivery = client.get("/_klingsim/callbacks").json()["deliveries"][0]
    assert delivery["state"] == "failed" and delivery["next_attempt_at"] is None
    assert [a["due_at"] - done for a in delivery["attempts"]] == [0, 1, 3, 7]
    assert len(receiver.calls) == 4


def test_a_transport_error_is_recorded_and_retried() -> None:
    client = SimClient([HOOKED])
    calls: list[str] = []

    def broken(
        url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        calls.append(headers["x-klingsim-attempt"])
        if len(calls) == 1:
            raise OSError("connection reset")
        return None, "ConnectTimeout: timed out" if len(calls) == 2 else None

    client.sim.callbacks.transport = broken
    start(client)
    client.advance(3600)
    attempts = client.sim.callbacks.list()[0].attempts
    assert [a.error for a in attempts][:2] == ["OSError: connection reset", "ConnectTimeout: timed out"]
    assert calls == ["1", "2", "3", "4"]


def test_request_handling_never_delivers() -> None:
    sim = Simulator([HOOKED], RealClock(speed=1e6), secret=b"s")
    sent: list[str] = []
    sim.callbacks.transport = recording(sent)
    client = SimClient([HOOKED])
    client.sim = sim
    from klingsim.server.app import KlingsimApp

    client.app = KlingsimApp(sim)
    task_id = start(client)
    client.get("/kling3api/api/status", params={"task_id": task_id}, headers=bearer(KEY))
    job = sim.engine.get("kling3api", task_id)
    assert job is not None and job.terminal  # the job ended inside a request ...
    assert sent == []  # ... whose handling sent nothing
    sim.tick()
    assert sent == [GOOD]


def test_the_background_ticker_delivers_without_any_request() -> None:
    sim = Simulator([HOOKED], RealClock(speed=1e6), secret=b"s")
    delivered = threading.Event()

    def receiver(
        url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        delivered.set()
        return 200, None

    sim.callbacks.transport = receiver
    client = SimClient([HOOKED])
    client.sim = sim
    from klingsim.server.app import KlingsimApp

    client.app = KlingsimApp(sim)
    ticker = Ticker(sim, interval=0.01).start()
    try:
        start(client)
        assert delivered.wait(timeout=10)
    finally:
        ticker.stop()


class _Receiver(BaseHTTPRequestHandler):
    script: ClassVar[list[int]] = []
    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        code = type(self).script.pop(0) if type(self).script else 200
        self.send_response(code)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_real_http_delivery_to_a_loopback_receiver_that_fails_twice() -> None:
    _Receiver.script, _Receiver.bodies = [500, 500], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = SimClient([HOOKED], allow_http_callbacks=True)  # the default transport: real httpx
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        task_id = start(client, url)
        client.advance(3600)
        delivery = client.get("/_klingsim/callbacks").json()["deliveries"][0]
        assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]
        assert delivery["state"] == "delivered"
        assert len(_Receiver.bodies) == 3 and _Receiver.bodies[-1]["data"]["task_id"] == task_id
        assert _Receiver.bodies[-1]["data"]["status"] == "SUCCESS"
    finally:
        server.shutdown()
        server.server_close()


def _spec(provider: str) -> ProviderSpec:
    spec = next((s for s in ALL if s.id == provider), None)
    if spec is None:
        pytest.fail(f"{provider} is expected among the providers")
    return spec


def test_evolink_refuses_internal_callback_urls_in_its_envelope() -> None:
    spec = _spec("evolink")
    assert spec.callbacks is not None and spec.callbacks.retry_delays == (1.0, 2.0, 4.0)
    client = SimClient([spec])
    answer, _ = create(client, spec, spec.auth.example_key, callback_url="https://[::ffff:192.168.1.1]/cb")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["param"] == "callback_url" and error["code"] == 400


def test_evolink_posts_the_task_object_after_release_on_failure() -> None:
    spec = _spec("evolink")
    client = SimClient([spec])
    seen: list[tuple[dict[str, Any], list[str]]] = []

    def receiver(
        url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        kinds = [str(e.kind) for e in client.sim.ledger.job_entries("evolink", payload["id"])]
        seen.append((payload, kinds))
        return 200, None

    client.sim.callbacks.transport = receiver
    key = spec.auth.example_key
    _, job_id = create(
        client, spec, key, callback_url=GOOD, prompt="a dog [klingsim:fail=content_policy_violation]"
    )
    client.advance(3600)
    assert len(seen) == 1
    payload, kinds = seen[0]
    assert payload == status(client, spec, key, job_id).json()
    assert payload["status"] == "failed" and payload["error"]["code"] == "content_policy_violation"
    assert kinds == ["hold", "release"]


def test_prospolabs_webhook_fires_for_async_generations() -> None:
    spec = _spec("prospolabs")
    client = SimClient([spec])
    urls: list[str] = []
    client.sim.callbacks.transport = recording(urls)
    answer, _ = create(client, spec, spec.auth.example_key, webhook_url=GOOD)
    assert answer.status_code == 200
    client.advance(3600)
    assert urls == [GOOD]
    refused, _ = create(client, spec, spec.auth.example_key, webhook_url="http://example.com/x")
    assert refused.status_code == 400


def test_prospolabs_sync_generations_answer_with_the_result_and_send_no_webhook() -> None:
    spec = _spec("prospolabs")
    client = SimClient([spec])
    urls: list[str] = []
    client.sim.callbacks.transport = recording(urls)
    body = {"model": "kling-o3", "prompt": "a hummingbird", "webhook_url": GOOD}
    answer = client.post("/prospolabs/v1/generate", headers=bearer(spec.auth.example_key), json=body)
    assert answer.status_code == 200 and answer.json()["status"] == "completed"
    client.advance(3600)
    assert urls == []
