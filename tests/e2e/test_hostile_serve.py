"""`klingsim serve` under hostile use: a stream of junk leaves its memory bounded, and a second server on
the same database refuses to start, naming the file and the first one's pid."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_cli_serve import free_port, read_banner

CLI = Path(sys.executable).with_name("klingsim")
KEY = "k3a_live_0123456789abcdef"


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(CLI), "serve", "--port", str(port), "--clock", "virtual", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    read_banner(proc)
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)
    assert proc.stdout is not None
    proc.stdout.close()


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, base = start(*getattr(request, "param", ()))
    try:
        yield proc, base
    finally:
        stop(proc)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def junk() -> Iterator[tuple[dict[str, str], bytes]]:
    """About 1 MiB each: empty objects, not JSON, deep nesting, lone surrogates; with and without a key."""
    mib = 1 << 20
    bodies = [
        b"[" + b"{}," * (mib // 3 - 1) + b"{}]",
        b"{not json" + b"x" * (mib - 16),
        b'{"prompt": "' + b"\\ud800" * (mib // 7) + b'"}',
        b'{"a": ' + b"[" * 20_000 + b"]" * 20_000 + b', "pad": "' + b"p" * (mib - 40_100) + b'"}',
    ]
    for n in range(200):
        headers = {"content-type": "application/json"}
        if n % 2:
            headers["authorization"] = f"Bearer {KEY}"
        yield headers, bodies[(n // 2) % len(bodies)]  # each body with and without a key


def test_a_stream_of_junk_leaves_memory_bounded(served: tuple[subprocess.Popen[str], str]) -> None:
    proc, base = served
    with httpx.Client(base_url=base, timeout=30) as http:
        sent = 0
        for n, (headers, body) in enumerate(junk()):
            answer = http.post("/kling3api/api/generate", content=body, headers=headers)
            assert answer.status_code < 500, answer.text[:200]
            sent += len(body)
            if n == 19:
                settled = rss_bytes(proc.pid)
        grown = rss_bytes(proc.pid) - settled
        assert sent > 190 * (1 << 20)
        assert grown < 48 * (1 << 20), f"RSS grew {grown / (1 << 20):.0f} MiB over {sent >> 20} MiB of junk"
        assert http.get("/_klingsim/requests").status_code == 200


def test_a_second_server_on_one_database_refuses_to_start(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first, _ = start("--db", str(db))
    try:
        second = subprocess.run(
            [str(CLI), "serve", "--port", str(free_port()), "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert second.returncode == 2
        assert str(db) in second.stderr and f"pid {first.pid}" in second.stderr
    finally:
        stop(first)
    again, _ = start("--db", str(db))  # free once the first one stopped
    stop(again)
