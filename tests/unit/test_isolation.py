"""Tenant isolation: a job, its status and its outputs belong to the key (EmpirioLabs: the account) that
created it; any other key gets the provider's own not-found answer, as for an id that never existed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from klingsim.providers import ALL
from klingsim.spec import Action, ErrorRole, ProviderSpec
from tests.support import SimClient, bearer
from tests.unit.provider_cases import create, other_key, status


def json_replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: json_replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [json_replace(v, old, new) for v in value]
    return value.replace(old, new) if isinstance(value, str) else value


def unknown_like(spec: ProviderSpec, job_id: str) -> str:
    """An id of the same shape that names no job."""
    return re.sub(r"[a-z0-9]$", lambda m: "x" if m.group(0) != "x" else "y", job_id)


@pytest.mark.parametrize("spec", ALL, ids=[s.id for s in ALL])
def test_another_key_gets_the_providers_not_found(spec: ProviderSpec) -> None:
    client = SimClient([spec])
    owner, stranger = spec.auth.example_key, other_key(spec)
    _, job_id = create(client, spec, owner)
    client.advance(3600)
    mine = status(client, spec, owner, job_id)
    assert mine.status_code == 200
    theirs = status(client, spec, stranger, job_id)
    missing_id = unknown_like(spec, job_id)
    missing = status(client, spec, stranger, missing_id)
    not_found = spec.role(ErrorRole.NOT_FOUND)
    assert theirs.status_code == missing.status_code == not_found.status
    # Identical to a never-existing id's answer (ids aside): nothing tells the stranger the job exists.
    theirs_body, missing_body = theirs.json(), missing.json()
    if spec.envelope.answer_ids:  # a fresh id per answer (Kling's request_id) is no leak
        theirs_body.pop("request_id"), missing_body.pop("request_id")
    assert json_replace(theirs_body, job_id, "<id>") == json_replace(missing_body, missing_id, "<id>")
    assert "/_klingsim/files/" not in theirs.text  # no output URL leaks


@pytest.mark.parametrize("spec", ALL, ids=[s.id for s in ALL])
def test_the_owner_still_sees_the_job_after_a_stranger_asked(spec: ProviderSpec) -> None:
    client = SimClient([spec])
    _, job_id = create(client, spec, spec.auth.example_key)
    status(client, spec, other_key(spec), job_id)
    pending = spec.endpoint(Action.STATUS).pending_status  # fal answers 202 until the request completes
    assert status(client, spec, spec.auth.example_key, job_id).status_code in (200, pending)


def _empiriolabs() -> ProviderSpec:
    spec = next((s for s in ALL if s.id == "empiriolabs"), None)
    if spec is None:
        pytest.fail("empiriolabs is expected among the providers")
    return spec


def test_empiriolabs_keys_of_one_account_share_its_jobs() -> None:
    spec = _empiriolabs()
    client = SimClient([spec])
    first, second, outsider = (
        "sk-empiriolabs-aaaaaaaaaaaaaaaa",
        "sk-empiriolabs-bbbbbbbbbbbbbbbb",
        "sk-empiriolabs-cccccccccccccccc",
    )
    client.request("PUT", f"/_klingsim/accounts/empiriolabs/{first}", json={"balance": 20, "account": "acct"})
    client.request(
        "PUT", f"/_klingsim/accounts/empiriolabs/{second}", json={"balance": 20, "account": "acct"}
    )
    _, job_id = create(client, spec, first)
    assert status(client, spec, second, job_id).status_code == 200
    assert status(client, spec, outsider, job_id).status_code == 404


def test_empiriolabs_usage_lists_only_the_accounts_own_jobs() -> None:
    spec = _empiriolabs()
    usage = next((e for e in spec.endpoints if e.action is Action.USAGE), None)
    if usage is None:
        pytest.fail("empiriolabs documents a usage endpoint")
    client = SimClient([spec])
    owner, stranger = spec.auth.example_key, other_key(spec)
    _, job_id = create(client, spec, owner)
    client.advance(3600)
    assert job_id in client.get(f"/empiriolabs{usage.path}", headers=bearer(owner)).text
    assert job_id not in client.get(f"/empiriolabs{usage.path}", headers=bearer(stranger)).text
