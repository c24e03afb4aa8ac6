"""Read a request's credential by the provider's declared schemes, and verify HS256 JWTs (stdlib only).

`read_credential` is pure: headers in, the key (and, for a JWT, its parsed token) out, or an `AuthError`
naming the failure. The simulator then looks the key up, verifies signatures against registered secrets and
judges `exp`/`nbf` on the wall clock (`check_times`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from klingsim.spec import AuthFailure, AuthScheme, AuthSpec, HeaderKey, JwtHs256, TokenScheme


class AuthError(Exception):
    def __init__(self, failure: AuthFailure, message: str = "") -> None:
        super().__init__(message or str(failure))
        self.failure = failure
        self.message = message


@dataclass(frozen=True, slots=True)
class Token:
    """A parsed JWT: its claims, and what its signature covers."""

    claims: Mapping[str, Any]
    signing_input: bytes
    signature: bytes
    scheme: JwtHs256


@dataclass(frozen=True, slots=True)
class Credential:
    key: str
    token: Token | None = None


def read_credential(auth: AuthSpec, headers: Mapping[str, str]) -> Credential:
    """The key the request carries, by the first scheme whose header is present."""
    for scheme in auth.accepted:
        raw = headers.get(scheme.header)
        if isinstance(scheme, HeaderKey):
            if raw:
                return Credential(raw)
            continue
        if raw is None or not raw.strip():  # an empty header is no credential (Kling 1001)
            continue
        return _prefixed(scheme, raw)
    raise AuthError(AuthFailure.MISSING)


def _prefixed(scheme: TokenScheme | JwtHs256, raw: str) -> Credential:
    prefix, _, token = raw.strip().partition(" ")
    if prefix.lower() != scheme.prefix.lower() or not token.strip():
        raise AuthError(AuthFailure.MALFORMED, f"Authorization must be '{scheme.hint}'")
    if isinstance(scheme, TokenScheme):
        return Credential(token.strip())
    parsed = parse_jwt(token.strip(), scheme)
    return Credential(str(parsed.claims[scheme.key_claim]), parsed)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parse_jwt(token: str, scheme: JwtHs256) -> Token:
    """The token's claims, or MALFORMED when it is not an HS256 JWT naming its key."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthError(AuthFailure.MALFORMED, "the token is not a JWT (three base64url parts)")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (ValueError, binascii.Error, RecursionError):
        raise AuthError(AuthFailure.MALFORMED, "the token's parts are not base64url JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise AuthError(AuthFailure.MALFORMED, "the token must be signed with alg HS256")
    if not isinstance(claims, dict):
        raise AuthError(AuthFailure.MALFORMED, "the token's claims must be a JSON object")
    key = claims.get(scheme.key_claim)
    if not isinstance(key, str) or not key:
        raise AuthError(AuthFailure.MALFORMED, f"the token has no '{scheme.key_claim}' claim")
    for name in ("exp", "nbf"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise AuthError(AuthFailure.MALFORMED, f"the token's '{name}' claim must be a number")
    return Token(claims, f"{parts[0]}.{parts[1]}".encode(), signature, scheme)


def signature_ok(token: Token, secret: str) -> bool:
    expected = hmac.new(secret.encode(), token.signing_input, hashlib.sha256).digest()
    return hmac.compare_digest(expected, token.signature)


def check_times(token: Token, wall_now: float) -> None:
    """NOT_YET_VALID before `nbf`, EXPIRED after `exp`, each with the scheme's leeway."""
    leeway = token.scheme.leeway_seconds
    nbf, exp = token.claims.get("nbf"), token.claims.get("exp")
    if nbf is not None and wall_now + leeway < float(nbf):
        raise AuthError(AuthFailure.NOT_YET_VALID, "the token is not valid yet (nbf)")
    if exp is not None and wall_now - leeway >= float(exp):
        raise AuthError(AuthFailure.EXPIRED, "the token has expired (exp)")


def encode_hs256(claims: Mapping[str, Any], secret: str) -> str:
    """An HS256 JWT of `claims` (for tests and examples: what an official Kling client sends)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = part(json.dumps(dict(claims), separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(sig)}"


def credential_headers(
    auth: AuthSpec, key: str, secret: str | None = None, now: float | None = None
) -> dict[str, str]:
    """The headers a client sends for `key` under the provider's first scheme: `Bearer <key>`, fal's
    `Key <key>`, a bare `x-api-key`, or an HS256 JWT minted like Kling's sample code (iss = key,
    exp = now + 1800, nbf = now - 5; signed with `secret`, default the spec's example secret)."""
    scheme = auth.accepted[0]
    if isinstance(scheme, HeaderKey):
        return {scheme.header: key}
    if isinstance(scheme, JwtHs256):
        moment = int(now if now is not None else time.time())
        claims = {scheme.key_claim: key, "exp": moment + 1800, "nbf": moment - 5}
        token = encode_hs256(claims, secret if secret is not None else auth.example_secret)
        return {scheme.header: f"{scheme.prefix} {token}"}
    return {scheme.header: f"{scheme.prefix} {key}"}


def key_of(auth: AuthSpec, headers: Mapping[str, str]) -> str:
    """The key a request carries, or "" (rate limits per key; never raises)."""
    try:
        return read_credential(auth, headers).key
    except AuthError:
        return ""


__all__ = [
    "AuthError",
    "AuthScheme",
    "Credential",
    "Token",
    "check_times",
    "credential_headers",
    "encode_hs256",
    "key_of",
    "parse_jwt",
    "read_credential",
    "signature_ok",
]
