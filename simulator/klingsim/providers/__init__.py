"""One module per provider, each defining SPEC; `ALL` is every provider klingsim serves."""

from __future__ import annotations

from klingsim.providers import empiriolabs, evolink, fal, kling, kling3api, prospolabs
from klingsim.spec import ProviderSpec

ALL: tuple[ProviderSpec, ...] = (
    kling3api.SPEC,
    empiriolabs.SPEC,
    evolink.SPEC,
    prospolabs.SPEC,
    kling.SPEC,
    fal.SPEC,
)


def by_id(provider_id: str) -> ProviderSpec:
    for spec in ALL:
        if spec.id == provider_id:
            return spec
    raise KeyError(f"unknown provider {provider_id!r}; known: {', '.join(s.id for s in ALL)}")
