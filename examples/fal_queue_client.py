"""fal.ai's queue, the way the official `fal-client` package talks to it, in a few lines of httpx or requests.

`Authorization: Key <FAL_KEY>`; `submit(application, arguments)` POSTs to `https://queue.fal.run/<model id>`
and answers a handle holding the request id and the `status_url`, `response_url` and `cancel_url` the queue
returned (they drop the model's subpath, so a client must use them, not rebuild them); `status()` reads
`Queued(position)`, `InProgress(logs)` or `Completed(logs, metrics)` (HTTP 202 until completed); `get()` reads
the result; `subscribe()` submits, polls and returns the result, and cancels the request when it gives up
(after `timeout` seconds: a cancelled request is not billed). Named so it never shadows `fal_client`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

QUEUE_URL = "https://queue.fal.run"
DEFAULT_APPLICATION = "fal-ai/kling-video/o3/standard/text-to-video"
DEFAULT_TIMEOUT = 1200.0  # seconds a subscribe waits for a request before it cancels it


class FalClientError(Exception):
    """fal answered an error, or the request completed with one; the message carries fal's detail."""


@dataclass(frozen=True)
class Queued:
    position: int


@dataclass(frozen=True)
class InProgress:
    logs: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Completed:
    logs: list[dict[str, Any]] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


Status = Queued | InProgress | Completed


class _Http:
    """The same three calls over httpx or requests."""

    def __init__(self, key: str, library: str) -> None:
        self.library = library
        headers = {"Authorization": f"Key {key}"}
        if library == "httpx":
            import httpx

            self.client: Any = httpx.Client(headers=headers, timeout=30)
        else:
            import requests

            self.client = requests.Session()
            self.client.headers.update(headers)

    def call(self, method: str, url: str, body: Mapping[str, Any] | None = None) -> tuple[int, Any, Any]:
        response = self.client.request(method, url, json=dict(body) if body is not None else None)
        try:
            payload = response.json()
        except ValueError:
            payload = response.text
        return response.status_code, response.headers, payload

    def raw(self, url: str) -> bytes:
        response = self.client.get(url)
        if response.status_code != 200:
            raise FalClientError(f"download answered {response.status_code}")
        content: bytes = response.content
        return content


@dataclass
class SyncRequestHandle:
    request_id: str
    status_url: str
    response_url: str
    cancel_url: str
    http: _Http

    def status(self, *, with_logs: bool = False) -> Status:
        code, _, body = self.http.call("GET", self.status_url + ("?logs=1" if with_logs else ""))
        if code not in (200, 202):
            raise FalClientError(f"status answered {code}: {body}")
        if body["status"] == "IN_QUEUE":
            return Queued(int(body.get("queue_position") or 0))
        if body["status"] == "IN_PROGRESS":
            return InProgress(body.get("logs"))
        return Completed(body.get("logs"), body.get("metrics") or {}, body.get("error"))

    def get(self) -> dict[str, Any]:
        code, _, body = self.http.call("GET", self.response_url)
        if code != 200:
            raise FalClientError(f"result answered {code}: {body}")
        result: dict[str, Any] = body
        return result

    def cancel(self) -> None:
        code, _, body = self.http.call("PUT", self.cancel_url)
        if code not in (202, 400):  # 400 ALREADY_COMPLETED: nothing left to cancel
            raise FalClientError(f"cancel answered {code}: {body}")


class SyncClient:
    def __init__(self, key: str | None = None, *, queue_url: str = QUEUE_URL, library: str = "httpx") -> None:
        self.http = _Http(key if key is not None else os.environ["FAL_KEY"], library)
        self.queue_url = queue_url.rstrip("/")

    def submit(
        self, application: str, arguments: Mapping[str, Any], *, webhook_url: str | None = None
    ) -> SyncRequestHandle:
        url = f"{self.queue_url}/{application}"
        if webhook_url is not None:
            url += f"?fal_webhook={webhook_url}"
        for attempt in range(5):
            code, headers, body = self.http.call("POST", url, arguments)
            if code != 429:
                break
            time.sleep(float(headers.get("retry-after") or 2 * 2**attempt))
        if code != 200:
            # A 5xx may have queued the request: report it, never resubmit (it would bill twice).
            raise FalClientError(f"submit answered {code}: {body}")
        return SyncRequestHandle(
            body["request_id"], body["status_url"], body["response_url"], body["cancel_url"], self.http
        )

    def subscribe(
        self,
        application: str,
        arguments: Mapping[str, Any],
        *,
        poll_every: float = 5.0,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Submit, poll until completed (retrying a transient 429/5xx on status) and return the result; a
        request it gives up on (its timeout, or status kept failing) is cancelled, so it is not billed."""
        handle = self.submit(application, arguments)
        waited, failures = 0.0, 0
        while True:
            try:
                status = handle.status()
            except FalClientError:
                failures += 1
                if failures > 5:
                    handle.cancel()
                    raise
                status = None
            if isinstance(status, Completed):
                if status.error:
                    raise FalClientError(f"request {handle.request_id} failed: {status.error}")
                return handle.get()
            if waited >= timeout:
                handle.cancel()  # giving up: a cancelled request is not billed
                raise FalClientError(f"request {handle.request_id} gave up after {waited:g} s; cancelled")
            time.sleep(poll_every)
            waited += poll_every


def application_for(request: Mapping[str, Any]) -> str:
    """The model a bare input most likely meant (the test harness hands the client inputs, not a model)."""
    if "video_url" in request:
        return "fal-ai/kling-video/o3/pro/video-to-video/edit"
    if "image_url" in request:
        return "fal-ai/kling-video/o3/standard/image-to-video"
    if "start_image_url" in request:
        return "fal-ai/kling-video/v3/standard/image-to-video"
    return DEFAULT_APPLICATION


def _generate(
    base_url: str,
    key: str,
    request: Mapping[str, Any],
    library: str,
    create_path: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    poll_every: float = 5.0,
) -> bytes:
    client = SyncClient(key, queue_url=base_url, library=library)
    application = create_path.lstrip("/") if create_path else application_for(request)
    result = client.subscribe(application, request, timeout=timeout, poll_every=poll_every)
    return client.http.raw(result["video"]["url"])


def generate_httpx(
    base_url: str, api_key: str, request: Mapping[str, Any], create_path: str | None = None
) -> bytes:
    return _generate(base_url, api_key, request, "httpx", create_path)


def generate_requests(
    base_url: str, api_key: str, request: Mapping[str, Any], create_path: str | None = None
) -> bytes:
    return _generate(base_url, api_key, request, "requests", create_path)


if __name__ == "__main__":
    import json
    import sys

    arguments = json.loads(os.environ.get("KLINGSIM_REQUEST", '{"prompt": "a red fox in the snow"}'))
    base = os.environ.get("KLINGSIM_BASE_URL", QUEUE_URL)
    library = "requests" if "--requests" in sys.argv else "httpx"
    args = sys.argv[1:]
    timeout = float(args[args.index("--timeout") + 1]) if "--timeout" in args else DEFAULT_TIMEOUT
    poll_every = float(args[args.index("--poll-every") + 1]) if "--poll-every" in args else 5.0
    key = os.environ.get("KLINGSIM_API_KEY") or os.environ["FAL_KEY"]
    try:
        video = _generate(
            base, key, arguments, library, os.environ.get("KLINGSIM_CREATE_PATH"), timeout, poll_every
        )
    except FalClientError as failed:
        print(f"failed: {failed}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"downloaded {len(video)} bytes")
