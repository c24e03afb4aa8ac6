"""DNS rebinding can't steer a callback: each attempt resolves once, checks every answer, connects to the
checked address (SNI and Host keep the name), and the next attempt checks again."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from klingsim.core.callbacks import Resolver, Target, httpx_transport, pin

SCRIPT = Path(__file__).with_name("rebinding_netns.py")


def rotating(*answers: str) -> tuple[list[str], Resolver]:
    """A resolver stub answering each lookup with the next address of `answers`, round and round."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return [answers[(len(asked) - 1) % len(answers)]]

    return asked, resolve


def test_a_name_is_resolved_once_per_attempt_and_pinned_to_the_checked_address() -> None:
    asked, resolve = rotating("93.184.215.14", "127.0.0.1")
    first = pin("https://hooks.example.com/cb", False, resolve)
    assert first == Target("https://hooks.example.com/cb", "hooks.example.com", "93.184.215.14")
    second = pin("https://hooks.example.com/cb", False, resolve)
    assert second == "hooks.example.com resolves to an internal address (127.0.0.1); refused"
    assert asked == ["hooks.example.com", "hooks.example.com"]


def test_any_internal_answer_refuses_the_attempt_and_loopback_only_with_the_http_switch() -> None:
    def both(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.7"]

    assert "internal address (10.0.0.7)" in str(pin("https://h.example.com/", True, both))
    assert pin("http://h.example.com/", True, lambda h, p: ["127.0.0.1"]) == Target(
        "http://h.example.com/", "h.example.com", "127.0.0.1"
    )
    assert "127.0.0.1" in str(pin("https://h.example.com/", False, lambda h, p: ["127.0.0.1"]))


def test_the_transport_never_connects_to_an_address_that_was_not_checked() -> None:
    asked, resolve = rotating("127.0.0.1")
    send = httpx_transport(allow_internal=False, resolve=resolve)
    status, error = send("https://hooks.example.com/cb", {}, {}, 1.0)
    assert status is None and error is not None and "refused" in error and len(asked) == 1


def _namespaces_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-rnm", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _namespaces_available(), reason="needs unprivileged user+network namespaces")
def test_dns_rebinding_in_a_network_namespace_never_reaches_loopback() -> None:
    run = subprocess.run(
        ["unshare", "-rnm", sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    # The resolver alternated public and loopback answers...
    assert report["answers"][:2] == ["8.8.8.8", "127.0.0.1"]
    hosts = [c["host"] for c in report["connections"]]
    # ...yet nothing connected to loopback: public answers were pinned, loopback answers refused.
    assert "127.0.0.1" not in hosts
    refused = [error for status, error in report["results"] if "internal address" in (error or "")]
    assert len(refused) == 3 and hosts.count("8.8.8.8") == 4
    tls = [c for c in report["connections"] if "host_header" not in c]
    assert len(tls) == 3 and all(c["sni"] for c in tls)  # the pinned TLS connections still name the host
    assert report["http_result"] == [204, None]
    assert report["connections"][-1]["host_header"] == "hooks.rebind.example:8080"
