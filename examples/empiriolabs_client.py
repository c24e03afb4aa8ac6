"""EmpirioLabs: POST /v1/videos/generations, poll GET /v1/jobs/{job_id}, download result.data[0].url."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from videoclient import Api, State, main, run_httpx, run_requests

BASE_URL = "https://api.empiriolabs.ai"


def _state(body: Mapping[str, Any]) -> State:
    if body["status"] in ("completed", "succeeded"):
        return State(True, video_url=body["result"]["data"][0]["url"])
    if body["status"] == "failed":
        return State(True, error=str(body.get("error") or "failed"))
    return State(False)


API = Api(
    create_path="/v1/videos/generations",
    status_path=lambda job: f"/v1/jobs/{job}",
    job_id=lambda body: str(body["job_id"]),
    state=_state,
)


def generate_httpx(base_url: str, api_key: str, request: Mapping[str, Any]) -> bytes:
    return run_httpx(API, base_url, api_key, request)


def generate_requests(base_url: str, api_key: str, request: Mapping[str, Any]) -> bytes:
    return run_requests(API, base_url, api_key, request)


if __name__ == "__main__":
    raise SystemExit(main(API, BASE_URL))
