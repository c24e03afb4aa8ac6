"""Where `kling` and `fal` are served: their mounts, `serve --provider` at `/`, the plugin's host routing
(the queue host, the synchronous host under `/run`, the three Kling hosts), and `klingsim providers`."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from klingsim.providers import ALL
from klingsim.server.app import KlingsimApp
from klingsim_contracts.routing import TrafficRouter
from tests.kling_auth import fal_headers, kling_headers
from tests.support import SimClient

T2V = "fal-ai/kling-video/o3/standard/text-to-video"


def test_klingsim_providers_lists_six() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "klingsim.cli", "providers"], capture_output=True, text=True, check=True
    ).stdout
    for provider in ("kling3api", "empiriolabs", "evolink", "prospolabs", "kling", "fal"):
        assert f"\n{provider}:" in f"\n{out}", provider
    assert len(ALL) == 6


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("api-singapore.klingai.com", "/kling/v1/videos/text2video"),
        ("api.klingai.com", "/kling/v1/videos/text2video"),
        ("api-beijing.klingai.com", "/kling/v1/videos/text2video"),
    ],
)
def test_the_plugin_routes_the_kling_hosts(host: str, path: str) -> None:
    router = TrafficRouter(app=SimClient().app, specs=ALL)
    assert router.target_path(f"https://{host}/v1/videos/text2video") == path


def test_the_plugin_routes_the_queue_and_the_synchronous_host() -> None:
    router = TrafficRouter(app=SimClient().app, specs=ALL)
    assert router.target_path(f"https://queue.fal.run/{T2V}") == f"/fal/{T2V}"
    assert router.target_path(f"https://fal.run/{T2V}") == f"/fal/run/{T2V}"
    assert router.target_path("https://fal.run/_klingsim/files/fal/x/0.mp4") == "/_klingsim/files/fal/x/0.mp4"


def test_served_at_root_the_links_carry_no_mount() -> None:
    client = SimClient()
    client.app = KlingsimApp(client.sim, default_provider="fal")
    answer = client.post(f"/{T2V}", headers=fal_headers(), json={"prompt": "a fox"}).json()
    assert (
        answer["status_url"] == f"http://testserver/fal-ai/kling-video/requests/{answer['request_id']}/status"
    )
    assert client.get(answer["status_url"], headers=fal_headers()).status_code == 202


def test_kling_served_at_root() -> None:
    client = SimClient()
    client.app = KlingsimApp(client.sim, default_provider="kling")
    created = client.post("/v1/videos/text2video", headers=kling_headers(), json={"prompt": "a cat"})
    assert created.status_code == 200 and created.json()["message"] == "SUCCEED"


def test_through_the_plugin_routing_the_links_are_the_real_hosts(klingsim: object) -> None:
    answer = httpx.post(
        f"https://queue.fal.run/{T2V}", headers=fal_headers(), json={"prompt": "a fox"}
    ).json()
    assert answer["status_url"].startswith("https://queue.fal.run/fal-ai/kling-video/requests/")
    status = httpx.get(answer["status_url"], headers=fal_headers())
    assert status.status_code == 202 and status.json()["status"] == "IN_QUEUE"
    synchronous = httpx.post(f"https://fal.run/{T2V}", headers=fal_headers(), json={"prompt": "a fox"})
    assert synchronous.status_code == 200 and synchronous.json()["video"]["file_name"] == "output.mp4"
