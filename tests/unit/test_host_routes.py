"""Host routing: a host entry may carry a path prefix under the provider's mount, and the answer's links
(`Request.mount`) follow the URLs the client used: the mount when mounted, none behind host routing."""

from __future__ import annotations

import dataclasses

from klingsim.core.http import Request
from klingsim.providers.kling3api import SPEC
from klingsim_contracts.routing import TrafficRouter, host_routes, provider_hosts
from tests.support import SimClient

SPEC_WITH_SYNC_HOST = dataclasses.replace(SPEC, hosts=("queue.example.test", "sync.example.test/run"))


def test_a_host_entry_may_carry_a_prefix_under_the_mount() -> None:
    routes = host_routes([SPEC_WITH_SYNC_HOST])
    assert routes["queue.example.test"] == ("kling3api", "")
    assert routes["sync.example.test"] == ("kling3api", "/run")
    assert provider_hosts([SPEC_WITH_SYNC_HOST])["sync.example.test"] == "kling3api"


def test_the_router_sends_a_prefixed_host_under_its_prefix() -> None:
    router = TrafficRouter(app=SimClient().app, specs=(SPEC_WITH_SYNC_HOST,))
    assert router.target_path("https://sync.example.test/a/b?x=1") == "/kling3api/run/a/b"
    assert router.target_path("https://queue.example.test/a/b") == "/kling3api/a/b"
    assert (
        router.target_path("https://sync.example.test/_klingsim/files/x/0.mp4") == "/_klingsim/files/x/0.mp4"
    )
    assert router.target_path("https://elsewhere.test/a") is None


def test_request_mount_is_the_mount_unless_a_proxy_says_otherwise() -> None:
    seen: list[Request] = []
    client = SimClient()
    original = client.sim.handle

    def spy(provider: str, req: Request) -> object:
        seen.append(req)
        return original(provider, req)

    client.sim.handle = spy  # type: ignore[method-assign]
    client.get("/kling3api/api/status?task_id=x")
    client.get("/kling3api/api/status?task_id=x", headers={"X-Forwarded-Prefix": "/"})
    assert [r.mount for r in seen] == ["/kling3api", ""]
