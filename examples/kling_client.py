"""The official Kling API: mint a JWT from the AccessKey/SecretKey pair, create, poll by task id, download.

Kling signs nothing with the key itself: each request carries `Authorization: Bearer <JWT>`, an HS256 token
whose `iss` is the AccessKey, signed with the SecretKey, valid from 5 s ago for 30 minutes (the official
sample code). The token is minted with the standard library, no JWT package needed. Tasks are created on one
path per kind (text2video, image2video, omni-video) and queried under the same kind.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping
from typing import Any

from videoclient import Api, State, main, run_httpx, run_requests

BASE_URL = "https://api-singapore.klingai.com"
OMNI_FIELDS = ("image_list", "video_list", "element_list")
OMNI_MODELS = ("kling-video-o1", "kling-v3-omni")


def mint_jwt(access_key: str, secret_key: str, lifetime: int = 1800) -> str:
    """The token of Kling's sample code: {"iss": AccessKey, "exp": now + 1800, "nbf": now - 5}, HS256."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"iss": access_key, "exp": now + lifetime, "nbf": now - 5}
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret_key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def kind_of(request: Mapping[str, Any]) -> str:
    """Which create path takes this body: omni-video for its models and lists, image2video with an image."""
    if request.get("model_name") in OMNI_MODELS or any(f in request for f in OMNI_FIELDS):
        return "omni-video"
    return "image2video" if "image" in request else "text2video"


def _state(body: Mapping[str, Any]) -> State:
    data = body["data"]
    if data["task_status"] == "succeed":
        return State(True, video_url=data["task_result"]["videos"][0]["url"])
    if data["task_status"] == "failed":
        return State(True, error=data.get("task_status_msg") or "failed")
    return State(False)


def _worth_retrying(text: str) -> bool:
    """Kling answers 429 for rate (1302) and concurrency (1303) limits, which clear, and for accounts in
    trouble (1100-1102: a depleted resource pack), which no wait fixes."""
    try:
        code = json.loads(text).get("code")
    except (ValueError, AttributeError):
        return True
    return code not in (1100, 1101, 1102)


def api_for(request: Mapping[str, Any], create_path: str | None = None) -> Api:
    path = create_path or f"/v1/videos/{kind_of(request)}"
    return Api(
        create_path=path,
        status_path=lambda task_id: f"{path}/{task_id}",
        job_id=lambda body: str(body["data"]["task_id"]),
        state=_state,
        retry_429=_worth_retrying,
    )


def _secret(secret_key: str | None) -> str:
    if secret_key is not None:
        return secret_key
    return os.environ.get("KLINGSIM_SECRET_KEY") or os.environ.get("KLING_SECRET_KEY", "")


def generate_httpx(
    base_url: str,
    access_key: str,
    request: Mapping[str, Any],
    secret_key: str | None = None,
    create_path: str | None = None,
) -> bytes:
    token = mint_jwt(access_key, _secret(secret_key))
    return run_httpx(api_for(request, create_path), base_url, token, request)


def generate_requests(
    base_url: str,
    access_key: str,
    request: Mapping[str, Any],
    secret_key: str | None = None,
    create_path: str | None = None,
) -> bytes:
    token = mint_jwt(access_key, _secret(secret_key))
    return run_requests(api_for(request, create_path), base_url, token, request)


if __name__ == "__main__":
    # KLINGSIM_API_KEY is the AccessKey; the SecretKey comes from KLINGSIM_SECRET_KEY (or KLING_SECRET_KEY);
    # KLINGSIM_CREATE_PATH, when set, names the create path (else it is guessed from the request).
    os.environ["KLINGSIM_API_KEY"] = mint_jwt(os.environ.get("KLINGSIM_API_KEY", ""), _secret(None))
    request = json.loads(os.environ.get("KLINGSIM_REQUEST", "{}"))
    raise SystemExit(main(api_for(request, os.environ.get("KLINGSIM_CREATE_PATH")), BASE_URL))
