"""One valid create per provider, and create/status helpers derived from the spec."""

from __future__ import annotations

from typing import Any

import httpx

from klingsim.spec import Action, ProviderSpec
from tests.support import SimClient, bearer

BODIES: dict[str, dict[str, Any]] = {
    "kling3api": {"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains", "duration": 5},
    "empiriolabs": {"model": "kling-o3", "prompt": "A lighthouse at dusk"},
    "evolink": {"prompt": "A golden retriever"},
    "prospolabs": {"model": "kling-o3", "prompt": "a fox in the snow", "async": True},
}


def other_key(spec: ProviderSpec) -> str:
    """A second key of the provider's format, different from its example key."""
    key = spec.auth.example_key
    return key[:-4] + ("9999" if not key.endswith("9999") else "8888")


def create(client: SimClient, spec: ProviderSpec, key: str, **extra: Any) -> tuple[httpx.Response, str]:
    """POST the provider's valid body; returns the answer and the new job's id (from the engine)."""
    endpoint = spec.endpoint(Action.CREATE)
    before = {j.id for j in client.sim.engine.jobs()}
    answer = client.post(f"/{spec.id}{endpoint.path}", json={**BODIES[spec.id], **extra}, headers=bearer(key))
    new = [j.id for j in client.sim.engine.jobs() if j.id not in before and j.provider == spec.id]
    return answer, new[0] if new else ""


def status(client: SimClient, spec: ProviderSpec, key: str, job_id: str) -> httpx.Response:
    endpoint = spec.endpoint(Action.STATUS)
    if endpoint.id_in == "path":
        path = endpoint.path.replace("{" + endpoint.id_param + "}", job_id)
        return client.get(f"/{spec.id}{path}", headers=bearer(key))
    return client.get(f"/{spec.id}{endpoint.path}", params={endpoint.id_param: job_id}, headers=bearer(key))
