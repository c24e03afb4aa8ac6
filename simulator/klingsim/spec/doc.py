"""Where a fact comes from: a seed page, a public URL, or an inference with its reason."""

from __future__ import annotations

from dataclasses import dataclass

INFERRED = "inferred"


@dataclass(frozen=True, slots=True)
class DocRef:
    """A citation: `source` is a seed file name, a public URL, or `inferred` (then `reason` says why)."""

    source: str
    quote: str = ""
    reason: str = ""

    @property
    def inferred(self) -> bool:
        return self.source == INFERRED

    def cite(self) -> str:
        if self.inferred:
            return f"inferred: {self.reason}"
        return f"{self.source}: {self.quote}" if self.quote else self.source


def seed(file: str, quote: str = "") -> DocRef:
    """A line of one of the provider pages the project is built from."""
    return DocRef(source=file, quote=quote)


def public(url: str, quote: str = "") -> DocRef:
    """The provider's own public documentation, or public third-party material."""
    return DocRef(source=url, quote=quote)


def inferred(reason: str) -> DocRef:
    """A behaviour no page documents; `reason` says why klingsim chose it."""
    return DocRef(source=INFERRED, reason=reason)
