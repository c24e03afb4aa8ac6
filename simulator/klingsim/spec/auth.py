"""How a provider's callers prove who they are: the credential schemes it accepts, as data.

A provider lists its schemes in the order it reads them (`AuthSpec.schemes`); the first scheme whose header
is present decides. Each way of failing (`AuthFailure`) answers one of the provider's documented errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from klingsim.spec.doc import DocRef


class AuthFailure(StrEnum):
    """Why a request is not authenticated; `AuthSpec.errors` maps each to an error of the catalogue."""

    MISSING = "missing"  # no credential header at all
    MALFORMED = "malformed"  # the header is there but not in the scheme's form (wrong prefix, not a JWT)
    UNKNOWN_KEY = "unknown_key"  # a key of the wrong shape, or not registered under --strict-keys
    BAD_SIGNATURE = "bad_signature"  # a signed token whose signature does not verify
    NOT_YET_VALID = "not_yet_valid"  # a token before its `nbf`
    EXPIRED = "expired"  # a token after its `exp`


@dataclass(frozen=True, slots=True)
class TokenScheme:
    """`<header>: <prefix> <key>`, e.g. `Authorization: Bearer sk-…` or fal's `Authorization: Key <key>`.

    The prefix is matched case-insensitively; a header with another prefix is MALFORMED.
    """

    prefix: str = "Bearer"
    header: str = "authorization"

    @property
    def hint(self) -> str:
        return f"{self.prefix} <api key>"


@dataclass(frozen=True, slots=True)
class HeaderKey:
    """The bare key in its own header, e.g. `x-api-key: sk-…`."""

    header: str


@dataclass(frozen=True, slots=True)
class JwtHs256:
    """`<header>: <prefix> <JWT>` signed HS256 with the key's secret; the key is the `key_claim` claim.

    `exp` and `nbf` are judged on the wall clock (tokens are minted by real clocks), `leeway_seconds` either
    side. A key seen for the first time is provisioned and trusted unless the registry is strict; once a
    secret is registered for a key, its signatures are verified.
    """

    prefix: str = "Bearer"
    header: str = "authorization"
    key_claim: str = "iss"
    leeway_seconds: float = 5.0

    @property
    def hint(self) -> str:
        return f"{self.prefix} <JWT>"


AuthScheme = TokenScheme | HeaderKey | JwtHs256


@dataclass(frozen=True, slots=True)
class AuthSpec:
    """The provider's credential schemes, the shape of a valid key, and the error of each failure.

    `schemes` defaults to a Bearer token followed by one `HeaderKey` per entry of `also_headers`. `errors`
    names, per failure, an error code of the catalogue; a failure it leaves out answers the provider's
    MISSING_KEY role (MISSING) or INVALID_KEY role (every other failure).
    """

    key_pattern: str
    doc: DocRef
    example_key: str
    also_headers: tuple[str, ...] = ()
    schemes: tuple[AuthScheme, ...] = ()
    errors: Mapping[AuthFailure, str] = field(default_factory=dict)
    example_secret: str = ""

    def __post_init__(self) -> None:
        if not self.schemes:  # read on every request: built once
            default = (TokenScheme(), *(HeaderKey(h) for h in self.also_headers))
            object.__setattr__(self, "schemes", default)

    def valid_format(self, key: str) -> bool:
        return re.fullmatch(self.key_pattern, key) is not None

    @property
    def accepted(self) -> tuple[AuthScheme, ...]:
        """The schemes in the order they are read."""
        return self.schemes

    @property
    def signed(self) -> JwtHs256 | None:
        """The JWT scheme, when the provider's keys sign tokens."""
        return next((s for s in self.accepted if isinstance(s, JwtHs256)), None)
