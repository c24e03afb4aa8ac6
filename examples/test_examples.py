"""The example clients under the klingsim pytest plugin: their real base URLs, unchanged, reach the simulator.

Each client runs once through the `klingsim` fixture (a plain test, as a user would write it) and once
through the client suite (`klingsim_check_client`), which must find nothing wrong with it. The careless
client must be rejected, with reasons a person can read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest

from klingsim.providers import ALL, by_id
from klingsim.server.app import KlingsimApp
from klingsim_contracts import check_client
from klingsim_contracts.client.inputs import drives, minimal_request

PROVIDERS = [spec.id for spec in ALL]
CLIENT_PROVIDERS = [spec.id for spec in ALL if drives(spec)]  # client mode checks these (client.inputs)
LIBRARIES = ["httpx", "requests"]
# Scenarios about a provider's own features: Kling's 1303, fal's 429 and its cancel.
SCENARIOS_OF = {"kling": {"too_many_jobs", "insufficient_credits"}, "fal": {"too_many_jobs", "stuck_job"}}
# fal's example is named so it never shadows the official `fal_client` package.
MODULES = {"fal": "fal_queue_client"}
# Providers the kit does not draw requests for: the example's own small request.
REQUESTS: dict[str, dict[str, Any]] = {
    "kling": {"model_name": "kling-v1", "prompt": "A cat playing the piano", "duration": "5"},
    "fal": {"prompt": "A red fox runs through fresh snow", "duration": "5"},
}


def client(provider: str, library: str) -> Callable[[str, str, dict[str, Any]], bytes]:
    module = importlib.import_module(MODULES.get(provider, f"{provider}_client"))
    run: Callable[[str, str, dict[str, Any]], bytes] = getattr(module, f"generate_{library}")
    return run


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_client_gets_a_video_from_the_real_base_url(klingsim: Any, provider: str, library: str) -> None:
    spec = by_id(provider)
    with klingsim.virtual_sleep():  # the client's time.sleep(5) moves the virtual clock instead
        request = REQUESTS[provider] if provider in REQUESTS else minimal_request(spec)
        video = client(provider, library)(spec.base_url, spec.auth.example_key, request)
    assert video[4:8] == b"ftyp"  # a real MP4
    paths = [entry["path"] for entry in klingsim.requests]
    create = next(e.path for e in spec.endpoints if str(e.action) == "create")
    assert paths[0] == create.replace("{model_id:path}", "fal-ai/kling-video/o3/standard/text-to-video")
    assert paths[-1].startswith("/_klingsim/files/")


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("provider", CLIENT_PROVIDERS)
def test_client_passes_the_client_suite(klingsim_check_client: Any, provider: str, library: str) -> None:
    report = klingsim_check_client(client(provider, library), provider=provider, max_examples=2)
    assert report.ok, report.text()
    exercised = {r.scenario for r in report.results if not r.not_exercised}
    assert exercised >= {"success", "failed_job"} | SCENARIOS_OF.get(provider, set())


def test_careless_client_is_rejected_with_reasons() -> None:
    from careless_client import generate

    report = check_client(generate, provider="kling3api", make_app=KlingsimApp, max_examples=1)
    print(report.text())
    assert not report.ok
    checks = {finding.check for _, finding in report.findings}
    assert {
        "CLIENT-REQUEST-ACCEPTED",
        "CLIENT-POLL-RATE",
        "CLIENT-STOPS-AT-TERMINAL",
        "CLIENT-SURFACES-FAILURE",
        "CLIENT-NO-DOUBLE-SUBMIT",
        "CLIENT-RETRY-AFTER",
    } <= checks
    text = report.text()
    assert "INVALID_DURATION" in text  # the rule its first request broke, in the provider's words
    assert "reported success, but" in text
