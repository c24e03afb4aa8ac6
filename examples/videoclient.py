"""A small, careful video-generation client: submit, poll, download, with httpx or requests.

Each provider module (kling3api_client.py, ...) describes its API in a few lines (`Api`); the loops here do
the careful part once:
- a 429 on create was refused, so it is retried after the Retry-After the provider sent (or a backoff);
- a 5xx on create is ambiguous (the job may exist and be charged), so it is reported, never resubmitted;
- polling waits `poll_every` seconds between requests, retries transient 429/5xx, and stops at a terminal
  status; a failed job or a failed download raises `GenerationFailed`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class GenerationFailed(Exception):
    """The provider did not deliver a video; the message says why."""


@dataclass(frozen=True)
class State:
    done: bool
    video_url: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Api:
    """What differs between providers: where to create and poll, and how to read the answers."""

    create_path: str
    status_path: Callable[[str], str]  # job id -> path (and query) to poll
    job_id: Callable[[Mapping[str, Any]], str]
    state: Callable[[Mapping[str, Any]], State]
    # Whether a 429 on create is worth retrying, from its body (Kling answers 429 for an empty resource pack
    # too, which no wait refills); None: every 429 is.
    retry_429: Callable[[str], bool] | None = None


def _retry(api: Api, status: int, text: str) -> bool:
    return status == 429 and (api.retry_429 is None or api.retry_429(text))


def wait_seconds(headers: Mapping[str, str], attempt: int) -> float:
    """Retry-After when the provider sent one (seconds form), else exponential backoff from 2 s."""
    value = headers.get("retry-after", "")
    return float(value) if value.strip().isdigit() else min(2.0 * 2**attempt, 60.0)


def _check_create(status: int, body: Any) -> None:
    if status >= 500:
        raise GenerationFailed(f"create answered {status}; the job may exist, not resubmitting: {body}")
    if status >= 400:
        raise GenerationFailed(f"create refused ({status}): {body}")


def run_httpx(
    api: Api, base_url: str, api_key: str, request: Mapping[str, Any], poll_every: float = 5.0
) -> bytes:
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for attempt in range(5):
            created = client.post(api.create_path, json=dict(request))
            if not _retry(api, created.status_code, created.text):
                break
            time.sleep(wait_seconds(created.headers, attempt))
        _check_create(created.status_code, created.text)
        body = created.json()
        state, job, failures = api.state(body), api.job_id(body), 0
        while not state.done:
            time.sleep(poll_every)
            polled = client.get(api.status_path(job))
            if polled.status_code == 429 or polled.status_code >= 500:
                failures += 1
                if failures > 5:
                    raise GenerationFailed(f"polling kept failing: {polled.status_code} {polled.text}")
                time.sleep(wait_seconds(polled.headers, failures))
                continue
            polled.raise_for_status()
            state = api.state(polled.json())
        if state.error is not None or state.video_url is None:
            raise GenerationFailed(f"job {job} failed: {state.error}")
        video = client.get(state.video_url)
        if video.status_code != 200:
            raise GenerationFailed(f"download answered {video.status_code}: {video.text[:200]}")
        return video.content


def run_requests(
    api: Api, base_url: str, api_key: str, request: Mapping[str, Any], poll_every: float = 5.0
) -> bytes:
    import requests

    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {api_key}"
        for attempt in range(5):
            created = session.post(base_url + api.create_path, json=dict(request), timeout=30)
            if not _retry(api, created.status_code, created.text):
                break
            time.sleep(wait_seconds(created.headers, attempt))
        _check_create(created.status_code, created.text)
        body = created.json()
        state, job, failures = api.state(body), api.job_id(body), 0
        while not state.done:
            time.sleep(poll_every)
            polled = session.get(base_url + api.status_path(job), timeout=30)
            if polled.status_code == 429 or polled.status_code >= 500:
                failures += 1
                if failures > 5:
                    raise GenerationFailed(f"polling kept failing: {polled.status_code} {polled.text}")
                time.sleep(wait_seconds(polled.headers, failures))
                continue
            polled.raise_for_status()
            state = api.state(polled.json())
        if state.error is not None or state.video_url is None:
            raise GenerationFailed(f"job {job} failed: {state.error}")
        video = session.get(state.video_url, timeout=60)
        if video.status_code != 200:
            raise GenerationFailed(f"download answered {video.status_code}: {video.text[:200]}")
        return video.content


def main(api: Api, default_base_url: str) -> int:
    """Run as a program: `klingsim check client --provider ID -- python <provider>_client.py [--requests]
    [--poll-every S]`, reading KLINGSIM_BASE_URL, KLINGSIM_API_KEY and KLINGSIM_REQUEST."""
    import json
    import os
    import sys

    base_url = os.environ.get("KLINGSIM_BASE_URL", default_base_url)
    request = json.loads(os.environ["KLINGSIM_REQUEST"])
    runner = run_requests if "--requests" in sys.argv else run_httpx
    args = sys.argv[1:]
    poll_every = float(args[args.index("--poll-every") + 1]) if "--poll-every" in args else 5.0
    try:
        video = runner(api, base_url, os.environ["KLINGSIM_API_KEY"], request, poll_every)
    except GenerationFailed as failed:
        print(f"failed: {failed}", file=sys.stderr)
        return 1
    print(f"downloaded {len(video)} bytes")
    return 0
