"""The client suite catches each kind of careless client, by name and with a readable reason, and passes a
careful one. Clients here are small kling3api clients with one flaw each."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from klingsim.server.app import KlingsimApp
from klingsim_contracts import check_client
from klingsim_contracts.client import ClientReport

KEY_HEADER = "Authorization"


@dataclass(frozen=True)
class Flaws:
    bad_request: bool = False
    poll_every: float = 5.0
    extra_poll: bool = False
    ignore_retry_after: bool = False
    resubmit_on_5xx: bool = False
    success_on_failure: bool = False
    give_up_after: float = 3600.0
    skip_download: bool = False
    other_host: bool = False
    typo_field: bool = False
    changes: tuple[tuple[str, Any], ...] = ()  # fields it sets whatever it was asked for


def kling3api_client(flaws: Flaws) -> Callable[[str, str, dict[str, Any]], bytes | None]:
    def run(base_url: str, api_key: str, request: dict[str, Any]) -> bytes | None:
        with httpx.Client(base_url=base_url, headers={KEY_HEADER: f"Bearer {api_key}"}) as client:
            if flaws.other_host:
                with contextlib.suppress(httpx.HTTPError):  # best-effort telemetry
                    client.get("https://telemetry.example.com/ping")
            body = {**request, "duration": 99} if flaws.bad_request else {**request, **dict(flaws.changes)}
            if flaws.typo_field:
                body = {**body, "aspect_ratoi": "9:16"}
            created = client.post("/api/generate", json=body)
            for _ in range(3):
                if created.status_code == 429:
                    time.sleep(0 if flaws.ignore_retry_after else int(created.headers["retry-after"]))
                elif created.status_code >= 500 and flaws.resubmit_on_5xx:
                    time.sleep(2)
                else:
                    break
                created = client.post("/api/generate", json=body)
            created.raise_for_status()
            task = created.json()["data"]["task_id"]
            waited = 0.0
            while True:
                time.sleep(flaws.poll_every)
                waited += flaws.poll_every
                if waited > flaws.give_up_after:
                    raise TimeoutError(f"gave up after {waited:g} s")
                polled = client.get("/api/status", params={"task_id": task})
                if polled.status_code >= 500:
                    continue
                data = polled.json()["data"]
                if data["status"] != "IN_PROGRESS":
                    break
            if flaws.extra_poll:
                client.get("/api/status", params={"task_id": task})
            if data["status"] == "FAILED":
                if flaws.success_on_failure:
                    return None
                raise RuntimeError(data["error_message"])
            if flaws.skip_download:
                return None
            video = client.get(data["response"][0])
            video.raise_for_status()
            return video.content

    return run


def check(flaws: Flaws, *scenarios: str, **options: Any) -> ClientReport:
    return check_client(
        kling3api_client(flaws),
        provider="kling3api",
        make_app=KlingsimApp,
        scenarios=scenarios,
        max_examples=1,
        **options,
    )


def checks_of(report: ClientReport) -> set[str]:
    return {finding.check for _, finding in report.findings}


def test_a_careful_client_passes_every_scenario() -> None:
    report = check(Flaws())
    assert report.ok, report.text()
    assert [r.scenario for r in report.results] == [
        "success",
        "failed_job",
        "rate_limited",
        "server_error_on_create",
        "server_error_on_poll",
        "insufficient_credits",
        "slow_job",
        "expired_output",
    ]
    assert all(r.runs >= 1 and not r.not_exercised for r in report.results)


@pytest.mark.parametrize(
    ("flaws", "scenario", "check_id", "words"),
    [
        (Flaws(bad_request=True), "success", "CLIENT-REQUEST-ACCEPTED", "INVALID_DURATION"),
        (Flaws(extra_poll=True), "success", "CLIENT-STOPS-AT-TERMINAL", "after it was shown 'SUCCESS'"),
        (Flaws(poll_every=0.2), "slow_job", "CLIENT-POLL-RATE", "less than 1 s after the previous poll"),
        (Flaws(ignore_retry_after=True), "rate_limited", "CLIENT-RETRY-AFTER", "Retry-After: 60"),
        (Flaws(resubmit_on_5xx=True), "server_error_on_create", "CLIENT-NO-DOUBLE-SUBMIT", "created 2 jobs"),
        (Flaws(success_on_failure=True), "failed_job", "CLIENT-SURFACES-FAILURE", "no job succeeded"),
        (Flaws(skip_download=True), "success", "CLIENT-SURFACES-FAILURE", "never downloaded"),
        (Flaws(give_up_after=120), "slow_job", "CLIENT-COMPLETES", "gave up"),
        (Flaws(other_host=True), "success", "CLIENT-KNOWN-HOSTS", "telemetry.example.com"),
        (Flaws(typo_field=True), "success", "CLIENT-KNOWN-FIELDS", 'did you mean "aspect_ratio"'),
        (
            Flaws(changes=(("sound", False),)),
            "success",
            "CLIENT-SENDS-REQUESTED",
            "added sound=false (documented default: true)",
        ),
    ],
)
def test_each_careless_client_is_caught(flaws: Flaws, scenario: str, check_id: str, words: str) -> None:
    report = check(flaws, scenario)
    assert not report.ok
    assert check_id in checks_of(report), report.text()
    assert words in report.text()
    failed = report.results[0]
    assert failed.request is not None and failed.transcript  # the request asked for and what was sent


def test_a_client_may_send_documented_defaults_with_their_default_value() -> None:
    report = check(Flaws(changes=(("sound", True), ("aspect_ratio", "16:9"))), "success")
    assert "CLIENT-SENDS-REQUESTED" not in checks_of(report), report.text()


def test_a_client_that_never_stops_is_stopped() -> None:
    def forever(base_url: str, api_key: str, request: dict[str, Any]) -> None:
        with httpx.Client(base_url=base_url) as client:
            while True:
                try:
                    client.get("/api/status", params={"task_id": "n75000000000000"})
                except Exception:  # a careless client swallows everything; the stop still gets through
                    continue

    report = check_client(
        forever,
        provider="kling3api",
        make_app=KlingsimApp,
        scenarios=["success"],
        max_examples=1,
        max_requests=50,
    )
    assert "CLIENT-TERMINATES" in checks_of(report)
    assert "more than 50 requests" in report.text()


def test_async_clients_are_awaited_and_sleep_virtually() -> None:
    import asyncio

    async def run(base_url: str, api_key: str, request: dict[str, Any]) -> bytes:
        async with httpx.AsyncClient(base_url=base_url, headers={KEY_HEADER: f"Bearer {api_key}"}) as client:
            task = (await client.post("/api/generate", json=request)).json()["data"]["task_id"]
            while True:
                await asyncio.sleep(10)
                data = (await client.get("/api/status", params={"task_id": task})).json()["data"]
                if data["status"] == "SUCCESS":
                    return (await client.get(data["response"][0])).content
                if data["status"] == "FAILED":
                    raise RuntimeError(data["error_message"])

    started = time.monotonic()
    report = check_client(
        run, provider="kling3api", make_app=KlingsimApp, scenarios=["success", "slow_job"], max_examples=1
    )
    assert report.ok, report.text()
    assert time.monotonic() - started < 30  # 7 virtual minutes of waiting, no real sleeping


def test_the_report_writes_junit() -> None:
    report = check(Flaws(extra_poll=True), "success", "insufficient_credits")
    xml = report.junit()
    assert 'tests="2" failures="1"' in xml
    assert '<property name="checks" value="' in xml and "CLIENT-STOPS-AT-TERMINAL" in xml
