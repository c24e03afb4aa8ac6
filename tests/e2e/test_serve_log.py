"""`klingsim serve`'s request log, read from the subprocess' stdout: one line per request."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_cli_serve import free_port

KEY = "sk-evo-0123456789abcdef"
H = {"Authorization": f"Bearer {KEY}"}
CLI = Path(sys.executable).with_name("klingsim")


class Served:
    def __init__(self, *options: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(CLI), "serve", "--port", str(self.port), "--clock", "virtual", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.line()
        assert first.startswith("klingsim serving on"), first
        self.banner = [first]
        while not self.banner[-1].lstrip().startswith("curl"):
            self.banner.append(self.line())

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def line(self, timeout: float = 10.0) -> str:
        """The next stdout line; waits for output (I/O), never for the simulator's clock."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no log line within the timeout") from None
        assert line is not None, "the server closed its stdout"
        return line

    def stop(self) -> str:
        """Stop the server; what it printed after the last line read."""
        self.proc.terminate()
        self.proc.wait(timeout=10)
        rest = []
        while (line := self._lines.get(timeout=10)) is not None:
            rest.append(line)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.proc.stdout.close()
        self.proc.stderr.close()
        return "\n".join(rest)


@pytest.fixture
def text_server() -> Iterator[Served]:
    served = Served()
    yield served
    served.stop()


def test_each_request_is_one_readable_line(text_server: Served) -> None:
    body = {"model": "kling-o3-text-to-video", "prompt": "a fox", "qualty": "1080p"}
    created = httpx.post(f"{text_server.base}/evolink/v1/videos/generations", headers=H, json=body)
    job_id = created.json()["id"]
    line = text_server.line()
    assert line.startswith("2026-01-01T00:00:00Z evolink")
    assert f"POST   /evolink/v1/videos/generations 200 {job_id} " in line
    assert 'hint: unknown field "qualty"; did you mean "quality"?' in line
    httpx.get(f"{text_server.base}/evolink/v1/tasks/{job_id}", headers=H)
    assert f"GET    /evolink/v1/tasks/{job_id} 200 {job_id} " in text_server.line()
    httpx.post(f"{text_server.base}/_klingsim/clock/advance", json={"seconds": 60})
    assert "_klingsim   POST   /_klingsim/clock/advance 200 - " in text_server.line()
    missing = httpx.get(f"{text_server.base}/evolink/v1/task/{job_id}", headers=H)
    assert missing.status_code == 404
    assert 'hint: unknown path GET "/v1/task/' in text_server.line()


def test_json_log_has_every_field() -> None:
    served = Served("--log-format", "json")
    try:
        body = {"model": "kling-o3-text-to-video", "prompt": "a fox"}
        job_id = httpx.post(f"{served.base}/evolink/v1/videos/generations", headers=H, json=body).json()["id"]
        record = json.loads(served.line())
    finally:
        served.stop()
    duration = record.pop("duration_ms")
    assert isinstance(duration, float) and 0 <= duration < 10_000
    assert record == {
        "time": "2026-01-01T00:00:00Z",
        "provider": "evolink",
        "method": "POST",
        "path": "/evolink/v1/videos/generations",
        "status": 200,
        "job_id": job_id,
    }


def test_quiet_prints_no_request_lines() -> None:
    served = Served("--quiet")
    httpx.get(f"{served.base}/evolink/v1/credits", headers=H)
    httpx.get(f"{served.base}/_klingsim/health")
    assert served.stop().strip() == ""
