"""Client mode for the official Kling API and fal.ai: clients with one flaw each are caught by the check the
flaw breaks, in the provider's words and citing its page (the examples pass: examples/test_examples.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from klingsim.server.app import KlingsimApp
from klingsim_contracts import check_client
from klingsim_contracts.client import ClientReport
from klingsim_contracts.client.inputs import minimal_ask
from klingsim_contracts.client.scenarios import by_name


def checks_of(report: ClientReport) -> set[str]:
    return {finding.check for _, finding in report.findings}


def test_each_provider_offers_the_scenarios_of_its_features() -> None:
    from klingsim.providers import by_id

    names = {p: [s.name for s in by_name(None, by_id(p))] for p in ("kling", "fal", "kling3api")}
    assert "too_many_jobs" in names["kling"] and "stuck_job" not in names["kling"]  # no cancel in Kling
    assert {"too_many_jobs", "stuck_job"} <= set(names["fal"])
    assert "too_many_jobs" not in names["kling3api"] and "stuck_job" not in names["kling3api"]


def test_requests_are_asked_per_create_path_and_model() -> None:
    from klingsim.providers import by_id

    assert minimal_ask(by_id("fal")).path == "/fal-ai/kling-video/o3/standard/text-to-video"
    assert minimal_ask(by_id("kling")).path.startswith("/v1/videos/")


# ----------------------------------------------------------------------------- Kling, one flaw each
def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(access_key: str, secret: str) -> str:
    now = int(time.time())
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({"iss": access_key, "exp": now + 1800, "nbf": now - 5}).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


@dataclass(frozen=True)
class KlingFlaws:
    secret: str | None = None  # signs with this instead of the secret it was given
    issuer: str | None = None  # names this AccessKey instead of its own
    path: str | None = None  # posts every task here
    external_id: str | None = None  # sends this external_task_id, and resubmits after a 5xx
    poll_by_external_id: bool = False
    extra_poll: bool = False
    retry_every_429: bool = False


def kling(flaws: KlingFlaws) -> Any:
    def run(
        base_url: str, api_key: str, request: dict[str, Any], *, secret_key: str, create_path: str
    ) -> bytes:
        token = jwt(flaws.issuer or api_key, flaws.secret or secret_key)
        path = flaws.path or create_path
        body = {**request, "external_task_id": flaws.external_id} if flaws.external_id else request
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url, headers=headers) as client:
            created = client.post(path, json=body)
            if created.status_code >= 500 and flaws.external_id:
                created = client.post(path, json=body)
            for _ in range(3):
                if created.status_code != 429 or not flaws.retry_every_429:
                    break
                time.sleep(int(created.headers["retry-after"]))
                created = client.post(path, json=body)
            created.raise_for_status()
            data = created.json()["data"]
            ident = flaws.external_id if flaws.poll_by_external_id else data["task_id"]
            while data["task_status"] not in ("succeed", "failed"):
                time.sleep(5)
                data = client.get(f"{path}/{ident}").json()["data"]
            if flaws.extra_poll:
                client.get(f"{path}/{ident}")
            if data["task_status"] == "failed":
                raise RuntimeError(data["task_status_msg"])
            video = client.get(data["task_result"]["videos"][0]["url"])
            video.raise_for_status()
            return video.content

    return run


@pytest.mark.parametrize(
    ("flaws", "scenario", "check_id", "words"),
    [
        (KlingFlaws(secret="the-example-secret"), "success", "CLIENT-SIGNS-REQUESTS", '401 {"code": 1000'),
        (KlingFlaws(issuer="AKsomeoneelse"), "success", "CLIENT-SIGNS-REQUESTS", "not the key it was given"),
        (
            KlingFlaws(path="/v1/videos/omni-video"),
            "success",
            "CLIENT-SENDS-REQUESTED",
            "instead of POST /v1/videos/text2video",
        ),
        (
            KlingFlaws(external_id="order-17"),
            "server_error_on_create",
            "CLIENT-UNIQUE-IDS",
            "sent external_task_id='order-17' again",
        ),
        (
            KlingFlaws(retry_every_429=True),
            "insufficient_credits",
            "CLIENT-READS-ERROR-CODE",
            "sent 3 more create(s) after kling answered 429 with code 1102",
        ),
        (
            KlingFlaws(external_id="order-18", poll_by_external_id=True, extra_poll=True),
            "success",
            "CLIENT-STOPS-AT-TERMINAL",
            "after it was shown 'succeed'",
        ),
    ],
)
def test_each_careless_kling_client_is_caught(
    flaws: KlingFlaws, scenario: str, check_id: str, words: str
) -> None:
    report = check_client(
        kling(flaws), provider="kling", make_app=KlingsimApp, scenarios=[scenario], max_examples=1
    )
    assert check_id in checks_of(report), report.text()
    assert words in report.text()
    if check_id != "CLIENT-STOPS-AT-TERMINAL":  # a seed check, uncited like the seed providers'
        assert "[https://app.klingai.com/" in report.text()  # the finding cites Kling's page


def test_a_kling_client_may_retry_a_concurrency_limit() -> None:
    flaws = KlingFlaws(retry_every_429=True)
    report = check_client(
        kling(flaws), provider="kling", make_app=KlingsimApp, scenarios=["too_many_jobs"], max_examples=1
    )
    assert report.ok, report.text()


def test_a_kling_client_polling_by_its_external_task_id_passes() -> None:
    flaws = KlingFlaws(external_id="order-19", poll_by_external_id=True)
    report = check_client(
        kling(flaws), provider="kling", make_app=KlingsimApp, scenarios=["success"], max_examples=1
    )
    assert report.ok, report.text()


def test_a_kling_client_must_take_its_secret_key() -> None:
    def unsigned(base_url: str, api_key: str, request: dict[str, Any]) -> None:
        raise AssertionError("never called")

    with pytest.raises(TypeError, match="secret_key"):
        check_client(unsigned, provider="kling", make_app=KlingsimApp)


# ----------------------------------------------------------------------------- fal, one flaw each
@dataclass(frozen=True)
class FalFlaws:
    rebuild_urls: bool = False  # polls under the model's path instead of the status_url it was given
    give_up_after: float = 3600.0
    cancel_when_giving_up: bool = True
    auth: str = "Key"


def fal(flaws: FalFlaws) -> Any:
    def run(base_url: str, api_key: str, request: dict[str, Any], create_path: str) -> bytes:
        headers = {"Authorization": f"{flaws.auth} {api_key}"}
        with httpx.Client(headers=headers) as client:
            submitted = client.post(base_url + create_path, json=request)
            submitted.raise_for_status()
            receipt = submitted.json()
            status_url = receipt["status_url"]
            if flaws.rebuild_urls:
                status_url = f"{base_url}{create_path}/requests/{receipt['request_id']}/status"
            waited = 0.0
            while True:
                status = client.get(status_url)
                status.raise_for_status()
                if status.json()["status"] == "COMPLETED":
                    break
                if waited >= flaws.give_up_after:
                    if flaws.cancel_when_giving_up:
                        client.put(receipt["cancel_url"])
                    raise TimeoutError(f"gave up after {waited:g} s")
                time.sleep(5)
                waited += 5
            if status.json().get("error"):
                raise RuntimeError(status.json()["error"])
            result = client.get(receipt["response_url"]).json()
            return client.get(result["video"]["url"]).content

    return run


@pytest.mark.parametrize(
    ("flaws", "scenario", "check_id", "words"),
    [
        (
            FalFlaws(rebuild_urls=True),
            "success",
            "CLIENT-FOLLOWS-URLS",
            "a URL it built itself (answered 405); use the URL the create answered: "
            "/fal-ai/kling-video/requests/",
        ),
        (
            FalFlaws(give_up_after=600, cancel_when_giving_up=False),
            "stuck_job",
            "CLIENT-CANCELS-ABANDONED",
            "was still 'IN_PROGRESS' and never cancelled it",
        ),
        (FalFlaws(auth="Bearer"), "success", "CLIENT-REQUEST-ACCEPTED", "fal refuses it: 401"),
    ],
)
def test_each_careless_fal_client_is_caught(
    flaws: FalFlaws, scenario: str, check_id: str, words: str
) -> None:
    report = check_client(
        fal(flaws), provider="fal", make_app=KlingsimApp, scenarios=[scenario], max_examples=1
    )
    assert check_id in checks_of(report), report.text()
    assert words in report.text()
    assert "[https://" in report.text() or check_id == "CLIENT-REQUEST-ACCEPTED"  # cited


def test_a_fal_client_that_gives_up_and_cancels_passes_the_stuck_job() -> None:
    report = check_client(
        fal(FalFlaws(give_up_after=600)),
        provider="fal",
        make_app=KlingsimApp,
        scenarios=["stuck_job"],
        max_examples=1,
    )
    assert report.ok, report.text()


def test_callbacks_and_webhooks_a_client_asks_for_never_leave_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a callback was sent over the network")

    monkeypatch.setattr("socket.create_connection", no_network)

    def kling_with_callback(
        base_url: str, api_key: str, request: dict[str, Any], *, secret_key: str, create_path: str
    ) -> bytes:
        body = {**request, "callback_url": "https://hooks.example.com/kling"}
        return kling(KlingFlaws())(base_url, api_key, body, secret_key=secret_key, create_path=create_path)

    def fal_with_webhook(base_url: str, api_key: str, request: dict[str, Any], create_path: str) -> bytes:
        return fal(FalFlaws())(
            base_url, api_key, request, create_path + "?fal_webhook=https://hooks.example.com/f"
        )

    for provider, run in (("kling", kling_with_callback), ("fal", fal_with_webhook)):
        report = check_client(
            run, provider=provider, make_app=KlingsimApp, scenarios=["success"], max_examples=1
        )
        assert report.ok, report.text()  # a callback URL is a field a client may add
        assert any("callback POST https://hooks.example.com/" in t for t in report.results[0].transcript)
