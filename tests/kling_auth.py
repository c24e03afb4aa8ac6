"""Kling's JWT (HS256, `iss` = AccessKey) minted with the standard library; fal's `Key` header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

ACCESS_KEY = "AKg3kYp9rCwQ8tBfHdNeL2mZ4xVjUsT7"
SECRET_KEY = "SKn4Rt8vWq2LxZc6HbJm9PdFs3KgYe5A"
FAL_KEY = "0b7d6c1e-5f0a-4c8e-9f3b-2a1d4e6c8b90:3f9a2c7e1b5d4a8f9c0e6b2d7a1f5c3e"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mint(
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    *,
    exp_in: float = 1800,
    nbf_in: float = -5,
    alg: str = "HS256",
    claims: dict[str, Any] | None = None,
) -> str:
    """A token as Kling's sample code makes it: exp = now + 1800, nbf = now - 5, on the wall clock."""
    now = int(time.time())
    payload = {"iss": access_key, "exp": now + int(exp_in), "nbf": now + int(nbf_in)}
    if claims is not None:
        payload = claims
    head = _b64(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret_key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def kling_headers(
    access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, **kwargs: Any
) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(access_key, secret_key, **kwargs)}"}


def fal_headers(key: str = FAL_KEY) -> dict[str, str]:
    return {"Authorization": f"Key {key}"}
