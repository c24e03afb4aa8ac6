"""Nothing slow on the event loop: a 4K klingsim output used as an input is rendered and probed in a
worker (another client's status p99 stays under 20 ms meanwhile), list limits are checked before any
rendering, and image decodes are done once, ahead of the request, and cached."""

from __future__ import annotations

import base64
import io
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from klingsim.core import inputs
from klingsim.core.http import Request
from klingsim.providers import empiriolabs
from tests.e2e.test_cli_serve import free_port, read_banner
from tests.support import SimClient, bearer

CREATE = "/empiriolabs/v1/videos/generations"
POLLER = bearer("sk-empiriolabs-poller0123456789")
EDITOR = bearer("sk-empiriolabs-editor0123456789")


def output_url(http: httpx.Client, advance: Any, **body: Any) -> str:
    answer = http.post(CREATE, json={"model": "kling-o3", "prompt": "source", **body}, headers=POLLER)
    job_id = answer.json()["job_id"]
    advance()
    url: str = http.get(f"/empiriolabs/v1/jobs/{job_id}", headers=POLLER).json()["result"]["data"][0]["url"]
    return url


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`klingsim serve` in its own process (so the measuring client shares no GIL with it), on a virtual
    clock, with EmpirioLabs' rate limit off: the measuring client polls as fast as it can."""
    scenario = tmp_path / "no-limits.toml"
    scenario.write_text('[simulator]\nclock = "virtual"\n\n[rate_limits]\nempiriolabs = false\n')
    port = free_port()
    cli = Path(sys.executable).with_name("klingsim")
    proc = subprocess.Popen(
        [str(cli), "serve", "--port", str(port), "--scenario", str(scenario), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        read_banner(proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_probing_a_4k_input_keeps_another_clients_status_p99_under_20_ms(server: str) -> None:
    with httpx.Client(base_url=server) as http:

        def advance() -> None:
            http.post("/_klingsim/clock/advance", json={"seconds": 3600})

        source = output_url(http, advance, model_tier="4k", duration=3)
        job_id = source.split("/")[-2]
        answers: dict[str, Any] = {}

        def edit() -> None:
            body = {"model": "kling-o3", "prompt": "snow", "workflow": "video_edit", "video": source}
            with httpx.Client(base_url=server, timeout=300) as other:
                answers["edit"] = other.post(CREATE, json=body, headers=EDITOR)

        def p99_of(took: list[float]) -> float:
            return sorted(took)[int(len(took) * 0.99)]

        def poll() -> float:
            started = time.perf_counter()
            assert http.get(f"/empiriolabs/v1/jobs/{job_id}", headers=POLLER).status_code == 200
            return time.perf_counter() - started

        # The same client with nothing else going on: what this machine's load alone costs.
        [poll() for _ in range(50)]  # warm: connection, first-use paths
        baseline = p99_of([poll() for _ in range(500)])
        editor = threading.Thread(target=edit)
        editor.start()
        took: list[float] = []
        while editor.is_alive():
            took.append(poll())
        editor.join()
        assert answers["edit"].status_code == 200, answers["edit"].text
        advance()
        edited = http.get(f"/empiriolabs/v1/jobs/{answers['edit'].json()['job_id']}", headers=EDITOR).json()
    assert edited["result"]["data"][0]["duration_seconds"] == 3  # the probed length of the 4K source
    assert len(took) >= 100, "the 4K render was over before the other client could measure"
    p99 = p99_of(took)
    figures = f"p99 {p99 * 1000:.1f} ms over {len(took)} status requests; idle p99 {baseline * 1000:.1f} ms"
    print(figures)
    # Under 20 ms, on a machine whose load alone adds nothing; a loaded machine's own idle p99 is added.
    assert p99 < 0.020 + baseline, figures


def test_a_list_over_its_limit_is_refused_before_anything_is_rendered() -> None:
    client = SimClient([empiriolabs.SPEC])
    answer = client.post(CREATE, json={"model": "kling-o3", "prompt": "s", "duration": 3}, headers=POLLER)
    client.advance(3600)
    job = client.get(f"/empiriolabs/v1/jobs/{answer.json()['job_id']}", headers=POLLER).json()
    url = job["result"]["data"][0]["url"]
    body = {"model": "kling-o3", "prompt": "r", "workflow": "reference", "reference_videos": [url] * 3}
    request = Request("POST", "/v1/videos/generations", {}, EDITOR, httpx_json(body), "http://t")
    assert inputs.prepare(client.sim, "empiriolabs", request) == []
    refused = client.post(CREATE, json=body, headers=EDITOR)
    assert refused.status_code == 400 and "reference_videos" in refused.text
    assert len(client.sim.media) == 0  # nothing was rendered for it


def httpx_json(body: Any) -> bytes:
    return httpx.Request("POST", "http://t", json=body).read()


def big_png_base64() -> str:
    frame = av.VideoFrame(width=1024, height=1024, format="rgb24")
    # Set every pixel (a new frame's memory is whatever was there): 64 rows of seeded noise, the rest black,
    # so the PNG is always well above the size below which a body needs no preparing, and under 1 MiB.
    plane = frame.planes[0]
    noise = random.Random(0).randbytes(64 * plane.line_size)
    plane.update(noise + bytes(plane.buffer_size - len(noise)))
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="image2pipe") as out:
        stream = out.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = 1024, 1024, "rgb24"
        for packet in (*stream.encode(frame), *stream.encode(None)):
            out.mux(packet)
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_base64_image_is_decoded_once_ahead_of_the_request_and_cached() -> None:
    client = SimClient([empiriolabs.SPEC])
    image = big_png_base64()
    body = {"model": "kling-3-0-turbo", "prompt": "p", "image": image}
    request = Request("POST", "/v1/videos/generations", {}, {}, httpx_json(body), "http://t")
    work = inputs.prepare(client.sim, "empiriolabs", request)
    assert len(work) == 1 and client.sim.media.image_checked(image) is None
    work[0]()
    info = client.sim.media.image_checked(image)
    assert info is not None and not isinstance(info, Exception) and info.width == 1024
    assert inputs.prepare(client.sim, "empiriolabs", request) == []  # cached: nothing left to do
    created = client.post(CREATE, json=body, headers=EDITOR)
    assert created.status_code == 200, created.text
