"""HMAC-signed, expiring output URLs: the signature covers the provider, job, file and expiry."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

OUTPUTS_PREFIX = "/_klingsim/files"


@dataclass(frozen=True, slots=True)
class OutputRef:
    provider: str
    job_id: str
    index: int
    expires: int


class UrlSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _signature(self, ref: OutputRef) -> str:
        message = f"{ref.provider}\n{ref.job_id}\n{ref.index}\n{ref.expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def path(self, ref: OutputRef) -> str:
        """The URL path and query of one output (the caller adds scheme and host)."""
        return (
            f"{OUTPUTS_PREFIX}/{ref.provider}/{ref.job_id}/{ref.index}.mp4"
            f"?expires={ref.expires}&signature={self._signature(ref)}"
        )

    def verify(self, ref: OutputRef, signature: str) -> bool:
        return hmac.compare_digest(self._signature(ref), signature)
