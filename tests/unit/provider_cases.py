"""One valid create per provider, and create/status helpers derived from the spec."""

from __future__ import annotations

from typing import Any

import httpx

from klingsim.spec import Action, ProviderSpec
from tests.support import SimClient, auth_headers

BODIES: dict[str, dict[str, Any]] = {
    "kling3api": {"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains", "duration": 5},
    "empiriolabs": {"model": "kling-o3", "prompt": "A lighthouse at dusk"},
    "evolink": {"prompt": "A golden retriever"},
    "prospolabs": {"model": "kling-o3", "prompt": "a fox in the snow", "async": True},
    "kling": {"model_name": "kling-v1", "prompt": "A cat playing the piano", "duration": "5"},
    "fal": {"prompt": "A red fox runs through fresh snow", "duration": "5"},
}
# Creates whose path names the model (fal): the model each case uses.
PATH_PARAMS: dict[str, dict[str, str]] = {"fal": {"model_id": "fal-ai/kling-video/o3/standard/text-to-video"}}


def create_path(spec: ProviderSpec) -> str:
    path = spec.endpoint(Action.CREATE).path
    for name, value in PATH_PARAMS.get(spec.id, {}).items():
        path = path.replace("{" + name + ":path}", value).replace("{" + name + "}", value)
    return path


def other_key(spec: ProviderSpec) -> str:
    """A second key of the provider's format, different from its example key."""
    key = spec.auth.example_key
    return key[:-4] + ("9999" if not key.endswith("9999") else "8888")


def create(client: SimClient, spec: ProviderSpec, key: str, **extra: Any) -> tuple[httpx.Response, str]:
    """POST the provider's valid body; returns the answer and the new job's id (from the engine)."""
    before = {j.id for j in client.sim.engine.jobs()}
    body = {**BODIES[spec.id], **extra}
    answer = client.post(f"/{spec.id}{create_path(spec)}", json=body, headers=auth_headers(spec, key))
    new = [j.id for j in client.sim.engine.jobs() if j.id not in before and j.provider == spec.id]
    return answer, new[0] if new else ""


def status(client: SimClient, spec: ProviderSpec, key: str, job_id: str) -> httpx.Response:
    endpoint = spec.endpoint(Action.STATUS)
    if endpoint.id_in == "path":
        path = endpoint.path.replace("{" + endpoint.id_param + "}", job_id)
        return client.get(f"/{spec.id}{path}", headers=auth_headers(spec, key))
    query = {endpoint.id_param: job_id}
    return client.get(f"/{spec.id}{endpoint.path}", params=query, headers=auth_headers(spec, key))
