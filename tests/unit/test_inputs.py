"""Media inputs: klingsim outputs are probed; base64 images must decode; outside URLs are never fetched."""

from __future__ import annotations

import base64
import io
from typing import Any

import av
import pytest

from klingsim.core import inputs
from klingsim.spec import Param, ParamType, Variant, Violation, inferred
from tests.support import SimClient, bearer

H = bearer("k3a_test_0123456789abcdef")


def finished_output(client: SimClient, seconds: int) -> str:
    body = {"type": "std-text-to-video", "prompt": "source", "duration": seconds}
    task_id = client.post("/kling3api/api/generate", headers=H, json=body).json()["data"]["task_id"]
    client.advance(3600)
    data = client.get("/kling3api/api/status", headers=H, params={"task_id": task_id}).json()["data"]
    url: str = data["response"][0]
    return url


def test_a_klingsim_output_used_as_an_edit_source_sets_the_edit_length() -> None:
    client = SimClient()
    source = finished_output(client, 8)
    body = {"type": "o3-std-video-edit", "prompt": "snow", "video": source}
    task_id = client.post("/kling3api/api/generate", headers=H, json=body).json()["data"]["task_id"]
    job = client.sim.engine.get("kling3api", task_id)
    assert job is not None and job.plan.output.seconds == pytest.approx(8, abs=0.1)


def test_outside_urls_are_taken_on_trust_and_never_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an input URL was fetched")

    monkeypatch.setattr("socket.create_connection", no_network)
    client = SimClient()
    body = {"type": "o3-std-video-edit", "prompt": "snow", "video": "https://example.com/original-video.mp4"}
    created = client.post("/kling3api/api/generate", headers=H, json=body)
    assert created.status_code == 200
    job = client.sim.engine.get("kling3api", created.json()["data"]["task_id"])
    assert job is not None and job.plan.output.seconds == 5  # the inferred default for unprobeable sources


def test_a_forged_klingsim_url_is_a_validation_error() -> None:
    client = SimClient()
    source = finished_output(client, 5).replace("signature=", "signature=0")
    body = {"type": "o3-std-video-edit", "prompt": "snow", "video": source}
    answer = client.post("/kling3api/api/generate", headers=H, json=body)
    assert answer.status_code == 400 and "forged or has expired" in answer.json()["message"]


def png_base64() -> str:
    frame = av.VideoFrame(width=8, height=8, format="rgb24")
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="image2pipe") as container:
        stream = container.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = 8, 8, "rgb24"
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return base64.b64encode(buffer.getvalue()).decode()


VARIANT = Variant(
    "v", (Param("image", ParamType.STRING, inferred("t"), format="image-url-or-base64"),), inferred("t")
)


@pytest.mark.parametrize("value", ["https://example.com/a.png", "PNG_BASE64", "PNG_DATA_URL"])
def test_base64_images_that_decode_are_accepted(value: str) -> None:
    client = SimClient()
    encoded = png_base64()
    value = {"PNG_BASE64": encoded, "PNG_DATA_URL": f"data:image/png;base64,{encoded}"}.get(value, value)
    assert inputs.inspect(client.sim, client.sim.runtimes["kling3api"], VARIANT, {"image": value}) == {}


@pytest.mark.parametrize(
    "value", ["not base64 at all!", base64.b64encode(b"plain text, not an image").decode()]
)
def test_base64_that_is_not_an_image_is_refused_in_the_providers_envelope(value: str) -> None:
    client = SimClient()
    with pytest.raises(Violation) as caught:
        inputs.inspect(client.sim, client.sim.runtimes["kling3api"], VARIANT, {"image": value})
    assert caught.value.code == "INVALID_REQUEST" and caught.value.param == "image"
