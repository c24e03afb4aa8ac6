"""Every provider's output is a real video matching its job: probed size, duration and audio, over HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from klingsim.core import media
from tests.support import SimClient, bearer

KEYS = {
    "kling3api": "k3a_test_0123456789abcdef",
    "empiriolabs": "sk-empiriolabs-0123456789abcdef",
    "evolink": "sk-evo-0123456789abcdef",
    "prospolabs": "prsp-0123456789abcdef",
}
CREATE = {
    "kling3api": "/api/generate",
    "empiriolabs": "/v1/videos/generations",
    "evolink": "/v1/videos/generations",
    "prospolabs": "/v1/generate",
}
SHOTS = [
    {"index": 1, "prompt": "a hilltop", "duration": "4"},
    {"index": 2, "prompt": "pull back", "duration": "3"},
]

# (provider, request, expected (width, height), seconds, audio)
JOBS: list[tuple[str, dict[str, Any], tuple[int, int], float, bool]] = [
    ("kling3api", {"type": "std-text-to-video", "prompt": "x", "aspect_ratio": "9:16"}, (720, 1280), 5, True),
    (
        "kling3api",
        {"type": "o3-pro-text-to-video", "prompt": "x", "aspect_ratio": "1:1", "sound": False, "duration": 3},
        (1080, 1080),
        3,
        False,
    ),
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": "x", "model_tier": "standard", "sound": False},
        (1280, 720),
        5,
        False,
    ),
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": "2s: a | 2s: b", "aspect_ratio": "9:16"},
        (1080, 1920),
        4,
        True,
    ),
    (
        "empiriolabs",
        {"model": "kling-o3", "prompt": "x", "model_tier": "4k", "duration": 3},
        (3840, 2160),
        3,
        True,
    ),
    (
        "empiriolabs",
        {"model": "kling-3-0-turbo", "prompt": "x", "resolution": "1080p", "duration": 4},
        (1920, 1080),
        4,
        True,
    ),
    (
        "evolink",
        {"model": "kling-o3-text-to-video", "prompt": "x", "quality": "1080p", "sound": "on"},
        (1920, 1080),
        5,
        True,
    ),
    (
        "evolink",
        {
            "model": "kling-o3-text-to-video",
            "prompt": "",
            "duration": 7,
            "aspect_ratio": "1:1",
            "model_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": SHOTS},
        },
        (720, 720),
        7,
        False,
    ),
    (
        "prospolabs",
        {
            "model": "kling-o3",
            "mode": "text",
            "prompt": "x",
            "quality": "pro",
            "generate_audio": True,
            "duration": 6,
        },
        (1920, 1080),
        6,
        True,
    ),
]


def output_url(provider: str, body: dict[str, Any]) -> str:
    urls = {
        "kling3api": lambda b: b["data"]["response"][0],
        "empiriolabs": lambda b: b["result"]["data"][0]["url"],
        "evolink": lambda b: b["results"][0],
        "prospolabs": lambda b: b["output_url"],
    }
    url: str = urls[provider](body)
    return url


def finished(client: SimClient, provider: str, request: dict[str, Any]) -> dict[str, Any]:
    headers = bearer(KEYS[provider])
    created = client.post(f"/{provider}{CREATE[provider]}", headers=headers, json=request)
    assert created.status_code == 200, created.text
    body: dict[str, Any] = created.json()
    client.advance(3600)
    if provider == "prospolabs":
        return body
    path = {
        "kling3api": f"/kling3api/api/status?task_id={body.get('data', {}).get('task_id')}",
        "empiriolabs": f"/empiriolabs/v1/jobs/{body.get('job_id')}",
        "evolink": f"/evolink/v1/tasks/{body.get('id')}",
    }[provider]
    polled: dict[str, Any] = client.get(path, headers=headers).json()
    return polled


@pytest.mark.parametrize(
    ("provider", "request_body", "size", "seconds", "audio"),
    JOBS,
    ids=[f"{j[0]}-{i}" for i, j in enumerate(JOBS)],
)
def test_outputs_probe_as_the_job_asked(
    provider: str, request_body: dict[str, Any], size: tuple[int, int], seconds: float, audio: bool
) -> None:
    client = SimClient()
    url = output_url(provider, finished(client, provider, request_body))
    parts = urlsplit(url)
    download = client.get(f"{parts.path}?{parts.query}")
    assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
    probe = media.probe(download.content)
    assert (probe.width, probe.height) == size
    assert abs(probe.duration - seconds) <= 0.1
    assert probe.has_audio is audio
    assert probe.video_codec == "h264" and probe.audio_codec == ("aac" if audio else None)


def test_downloads_behave_like_a_cdn() -> None:
    client = SimClient()
    url = output_url("kling3api", finished(client, "kling3api", JOBS[0][1]))
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}"
    full = client.get(path)
    etag, length = full.headers["etag"], int(full.headers["content-length"])
    assert length == len(full.content) and full.headers["accept-ranges"] == "bytes"
    head = client.request("HEAD", path)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == length
    assert client.get(path, headers={"if-none-match": etag}).status_code == 304
    part = client.get(path, headers={"range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == full.content[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{length}"
    tail = client.get(path, headers={"range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == full.content[-10:]
    beyond = client.get(path, headers={"range": f"bytes={length}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{length}"
    assert client.post(path).status_code == 405
