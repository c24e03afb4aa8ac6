"""Every spec loads and renders a valid OpenAPI 3.1 document with typed responses; the simulator's answers
and the pages' documented example answers (fixtures/) conform to the declared response schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from klingsim.core.openapi import openapi_document
from klingsim.providers import ALL, by_id
from klingsim.spec import Action, ProviderSpec
from tests.support import SimClient, auth_headers
from tests.unit.tiny_spec import SPEC as TINY

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def schema_of(spec: ProviderSpec, method: str, path: str, status: int) -> dict[str, Any]:
    op = openapi_document(spec)["paths"][path][method.lower()]
    return op["responses"][str(status)]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def conforms(spec: ProviderSpec, method: str, path: str, status: int, body: Any) -> None:
    jsonschema.Draft202012Validator(schema_of(spec, method, path, status)).validate(body)


@pytest.mark.parametrize("spec", [*ALL, TINY], ids=lambda s: s.id)
def test_every_spec_renders_a_valid_openapi_31_document(spec: ProviderSpec) -> None:
    doc = openapi_document(spec)
    validate(doc)
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            for status, answer in op["responses"].items():
                schema = answer["content"]["application/json"]["schema"]
                assert schema != {"type": "object"}, f"{spec.id} {method} {path} {status} is untyped"


def test_seed_operations_declare_their_success_shape() -> None:
    for spec in ALL:
        assert all(op.response is not None for op in spec.endpoints), spec.id


def test_a_changed_create_status_changes_the_document() -> None:
    spec = by_id("empiriolabs").with_settings({"create_success_status": 202})
    create = openapi_document(spec)["paths"]["/v1/videos/generations"]["post"]["responses"]
    assert "202" in create and "200" not in create


def test_declared_settings_agree_with_the_typed_fields_they_write_through() -> None:
    for spec in ALL:
        assert spec.with_settings(spec.setting_values()) == spec, spec.id


def test_documents_name_units_ids_and_status_words() -> None:
    evolink = schema_of(by_id("evolink"), "GET", "/v1/tasks/{task_id}", 200)["properties"]
    assert (evolink["progress"]["minimum"], evolink["progress"]["maximum"]) == (0, 100)
    assert evolink["status"]["enum"] == ["pending", "processing", "completed", "failed"]
    assert evolink["id"]["pattern"] == "^(?:task-unified-.+)$"
    empirio = schema_of(by_id("empiriolabs"), "GET", "/v1/jobs/{job_id}", 200)["properties"]
    assert (empirio["progress"]["minimum"], empirio["progress"]["maximum"]) == (0, 1)


# ----------------------------------------------------------------------------------------- answers
CASES = {
    "kling3api": (
        "/api/generate",
        {"type": "std-text-to-video", "prompt": "A cat"},
        "/api/status?task_id={id}",
    ),
    "empiriolabs": ("/v1/videos/generations", {"model": "kling-o3", "prompt": "A cat"}, "/v1/jobs/{id}"),
    "evolink": (
        "/v1/videos/generations",
        {"model": "kling-o3-text-to-video", "prompt": "A cat"},
        "/v1/tasks/{id}",
    ),
    "prospolabs": (
        "/v1/generate",
        {"model": "kling-o3", "prompt": "A cat", "async": True},
        "/v1/generations/{id}",
    ),
    "kling": ("/v1/videos/text2video", {"prompt": "A cat"}, "/v1/videos/text2video/{id}"),
}
ID_FIELD = {
    "kling3api": ("data", "task_id"),
    "empiriolabs": ("job_id",),
    "evolink": ("id",),
    "prospolabs": ("generation_id",),
    "kling": ("data", "task_id"),
}


def _id(provider: str, body: dict[str, Any]) -> str:
    cur: Any = body
    for key in ID_FIELD[provider]:
        cur = cur[key]
    return str(cur)


@pytest.mark.parametrize("provider", sorted(CASES))
@pytest.mark.parametrize("prompt", ["A cat", "A cat [klingsim:fail=internal_error]"])
def test_rendered_answers_conform_to_the_declared_shapes(provider: str, prompt: str) -> None:
    spec = by_id(provider)
    create_path, body, status_path = CASES[provider]
    client = SimClient([spec])
    key = spec.auth.example_key
    client.sim.set_balance(provider, key, 10**6)  # type: ignore[arg-type]
    headers = auth_headers(spec, key)
    created = client.post(f"/{provider}{create_path}", json={**body, "prompt": prompt}, headers=headers)
    create_op = spec.operations(Action.CREATE)[0]
    assert created.status_code == create_op.success_status
    conforms(spec, "POST", create_op.path, created.status_code, created.json())
    status_op = spec.operations(Action.STATUS)[0]
    seen = set()
    for _ in range(12):
        answer = client.get(
            f"/{provider}" + status_path.format(id=_id(provider, created.json())), headers=headers
        )
        assert answer.status_code == 200
        conforms(spec, "GET", status_op.path, 200, answer.json())
        seen.add(json.dumps(answer.json(), sort_keys=True)[:40])
        client.advance(30)
    for op in spec.operations():
        if op.action in (Action.BALANCE, Action.USAGE, Action.MODELS):
            answer = client.get(f"/{provider}{op.path}", headers=headers)
            conforms(spec, op.method, op.path, answer.status_code, answer.json())


def test_error_answers_conform_to_their_envelope_schema() -> None:
    for spec in ALL:
        client = SimClient([spec])
        create = spec.operations(Action.CREATE)[0]
        path = create.path.replace("{model_id:path}", "fal-ai/kling-video/o3/standard/text-to-video")
        headers = auth_headers(spec, spec.auth.example_key)
        documented = create.path.replace(":path}", "}")  # OpenAPI's path template
        answer = client.post(f"/{spec.id}{path}", json={}, headers=headers)
        assert answer.status_code >= 400, (spec.id, answer.text)
        conforms(spec, "POST", documented, answer.status_code, answer.json())
        answer = client.post(f"/{spec.id}{path}", json={})
        conforms(spec, "POST", documented, answer.status_code, answer.json())


# ----------------------------------------------------------------------------------------- the pages
def _fixture(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / name).read_text())


def test_the_pages_example_answers_conform_to_the_declared_schemas() -> None:
    kling = by_id("kling3api")
    conforms(
        kling, "GET", "/api/status", 200, _fixture("kling3api", "status_success.json")["example_response"]
    )
    evolink = by_id("evolink")
    conforms(
        evolink,
        "POST",
        "/v1/videos/generations",
        200,
        _fixture("evolink", "public_create_examples.json")["response"],
    )
    detail = _fixture("evolink", "public_task_detail.json")
    conforms(evolink, "GET", "/v1/tasks/{task_id}", 200, detail["completed"])
    bad_id = detail["invalid_task_id"]
    conforms(evolink, "GET", "/v1/tasks/{task_id}", bad_id["status"], bad_id["body"])
    conforms(evolink, "GET", "/v1/credits", 200, _fixture("evolink", "public_credits.json")["response"])
    conforms(
        evolink,
        "POST",
        "/v1/videos/generations",
        400,
        _fixture("evolink", "public_errors.json")["envelope_example"],
    )
    prospolabs = by_id("prospolabs")
    conforms(
        prospolabs,
        "POST",
        "/v1/generate",
        200,
        _fixture("prospolabs", "generate_text.json")["example_response"],
    )


def test_the_pages_documented_fields_are_the_declared_required_fields() -> None:
    empirio = by_id("empiriolabs")
    for name, path in (
        ("o3_curl_poll.json", "/v1/jobs/{job_id}"),
        ("o3_curl_submit.json", "/v1/videos/generations"),
    ):
        expect = _fixture("empiriolabs", name)["expect"]
        method = "GET" if "poll" in name else "POST"
        schema = schema_of(empirio, method, path, expect["status"])
        assert set(expect["fields"]) <= set(schema["required"]), name
