"""Which providers the kit can drive yet.

Gateway and client mode build requests from one create operation whose model is a body field. The official
Kling API (three create paths, JWT-signed requests) and fal.ai (the model in the path, separate result and
cancel URLs) are simulated in full and checked by their own black-box suites (tests/providers/test_kling_*,
test_fal_*), but the kit does not drive them yet: asking it to answers a clear error instead of a report of
false failures.
"""

from __future__ import annotations

from klingsim.spec import Action, ProviderSpec


def drives(spec: ProviderSpec) -> bool:
    """Whether gateway and client mode can check this provider."""
    creates = spec.operations(Action.CREATE)
    return len(creates) == 1 and "{" not in creates[0].path and spec.auth.signed is None


def require(spec: ProviderSpec) -> None:
    """A ValueError naming the providers the kit drives, when it can't drive `spec`."""
    if not drives(spec):
        from klingsim.providers import ALL

        known = ", ".join(s.id for s in ALL if drives(s))
        raise ValueError(
            f"the contract kit does not drive {spec.id} yet (several create paths, signed or path-chosen "
            f"requests); it checks: {known}"
        )
