"""`klingsim serve` as a subprocess, walked through the README's curl flow over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

KEY = "k3a_e2e_0123456789abcdef"
H = {"Authorization": f"Bearer {KEY}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def read_banner(proc: subprocess.Popen[str]) -> str:
    """The banner's first line: `serve` prints it once its socket listens, so no polling is needed."""
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("klingsim serving on"), first
    return first


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    cli = Path(sys.executable).with_name("klingsim")
    proc = subprocess.Popen(
        [str(cli), "serve", "--port", str(port), "--clock", "virtual", "--provider", "kling3api"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        read_banner(proc)
        assert httpx.get(f"{base}/_klingsim/health").json() == {"status": "ok"}
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        banner = proc.stdout.read()
        proc.stdout.close()
        assert f"{base}/kling3api" in banner and "curl" in banner


def test_curl_flow_create_advance_status_download(server: str) -> None:
    body = {"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains at sunrise", "duration": 5}
    created = httpx.post(f"{server}/kling3api/api/generate", headers=H, json=body)
    assert created.status_code == 200
    task_id = created.json()["data"]["task_id"]
    status = httpx.get(f"{server}/kling3api/api/status", headers=H, params={"task_id": task_id}).json()
    assert status["data"]["status"] == "IN_PROGRESS"
    clock = httpx.post(f"{server}/_klingsim/clock/advance", json={"seconds": 600}).json()
    assert clock["mode"] == "virtual"
    status = httpx.get(f"{server}/kling3api/api/status", headers=H, params={"task_id": task_id}).json()
    assert status["data"]["status"] == "SUCCESS"
    url = status["data"]["response"][0]
    assert url.startswith(server)
    video = httpx.get(url)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert int(video.headers["content-length"]) == len(video.content) > 1000


def test_the_provider_is_also_served_at_the_root(server: str) -> None:
    created = httpx.post(
        f"{server}/api/generate", headers=H, json={"type": "std-text-to-video", "prompt": "x"}
    )
    assert created.status_code == 200 and created.json()["data"]["task_id"].startswith("n75")
    assert httpx.get(f"{server}/openapi.json").json()["servers"] == [{"url": server}]


def test_errors_over_http_are_never_framework_defaults(server: str) -> None:
    # The other tests may run in this worker before this one (and advance the clock) or in another.
    before = httpx.get(f"{server}/_klingsim/clock").json()["now"]
    assert before.startswith("2026-01-01T00:")
    bad = httpx.post(
        f"{server}/kling3api/api/generate",
        headers={**H, "content-type": "application/json"},
        content=b"{not json",
    )
    assert bad.status_code == 400 and bad.json()["error"] == "INVALID_REQUEST"
    assert httpx.get(f"{server}/_klingsim/clock").json()["now"] == before  # a refusal moves no clock
