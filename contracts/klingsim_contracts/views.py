"""One view of a provider per create operation the kit drives.

The kit's strategies and rules were written for one create operation and the status operation of its jobs.
A provider with several (the official Kling API: text2video, image2video, omni-video, each queried on its
own path) is judged as several *views*: the same ProviderSpec with the endpoints reordered so that one
create, and the read operations of its jobs (`Endpoint.jobs_of`), come first. Everything else of the spec
(auth, errors, lifecycle, prices) is the provider's own, so a view is judged by the one evaluation pipeline
(`klingsim.core.evaluate`) exactly as the provider itself.
"""

from __future__ import annotations

import dataclasses

from klingsim.spec import Action, Endpoint, ProviderSpec
from klingsim_contracts.strategies import driven_creates


def _reads(create: Endpoint, endpoint: Endpoint) -> bool:
    return endpoint.action is not Action.CREATE and create.op_id in endpoint.jobs_of


def views(spec: ProviderSpec) -> tuple[ProviderSpec, ...]:
    """The spec itself when it has one create operation; else one view per driven create."""
    creates = driven_creates(spec)
    if len(spec.operations(Action.CREATE)) <= 1 or not creates:
        return (spec,)
    out = []
    for create in creates:
        first = (create, *(e for e in spec.endpoints if _reads(create, e)))
        rest = tuple(e for e in spec.endpoints if e not in first)
        out.append(dataclasses.replace(spec, endpoints=(*first, *rest)))
    return tuple(out)
