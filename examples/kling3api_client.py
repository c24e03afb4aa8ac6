"""kling3api.com: POST /api/generate, poll GET /api/status?task_id=..., download data.response[0]."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from videoclient import Api, State, main, run_httpx, run_requests

BASE_URL = "https://kling3api.com"


def _state(body: Mapping[str, Any]) -> State:
    data = body["data"]
    if data["status"] == "SUCCESS":
        return State(True, video_url=data["response"][0])
    if data["status"] == "FAILED":
        return State(True, error=data.get("error_message") or "FAILED")
    return State(False)


API = Api(
    create_path="/api/generate",
    status_path=lambda job: f"/api/status?task_id={job}",
    job_id=lambda body: str(body["data"]["task_id"]),
    state=_state,
)


def generate_httpx(base_url: str, api_key: str, request: Mapping[str, Any]) -> bytes:
    return run_httpx(API, base_url, api_key, request)


def generate_requests(base_url: str, api_key: str, request: Mapping[str, Any]) -> bytes:
    return run_requests(API, base_url, api_key, request)


if __name__ == "__main__":
    raise SystemExit(main(API, BASE_URL))
