"""Prospolabs against the examples of its page (seed 002), transcribed in fixtures/prospolabs/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from klingsim.providers.prospolabs import SPEC
from tests.support import SimClient, bearer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prospolabs"
H = bearer("prsp-0123456789abcdef")
ROOT = "/prospolabs"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def client() -> SimClient:
    return SimClient([SPEC])


def test_quickstart_curl_answers_the_finished_generation_like_the_response_example() -> None:
    example = load("generate_text.json")
    request = example["request"]
    response = client().post(
        ROOT + request["path"], headers={**H, **request["headers"]}, json=request["body"]
    )
    expect = example["expect"]
    assert response.status_code == expect["status"]
    body = response.json()
    documented = example["example_response"]
    assert body.keys() == documented.keys()
    for field, value in documented.items():
        assert type(body[field]) is type(value), field
    assert body["status"] == expect["status_word"]
    assert body["generation_id"].startswith(expect["generation_id_prefix"])
    assert body["model"] == documented["model"] and body["mode"] == documented["mode"]
    # The page's 0.60 is illustrative (C15): 5 s standard without audio is $0.100/s x 5 on the rate table.
    assert body["estimated_cost_usd"] == expect["estimated_cost_usd"]
    assert body["output_url"].startswith("http://testserver/_klingsim/files/prospolabs/")
    assert body["duration_ms"] > 0


def test_the_output_url_of_the_example_downloads_a_video() -> None:
    example = load("generate_text.json")
    c = client()
    body = c.post(ROOT + "/v1/generate", headers=H, json=example["request"]["body"]).json()
    video = c.get(body["output_url"])
    assert video.status_code == 200
    assert video.content[4:8] == b"ftyp"


def test_every_default_of_the_parameter_table_applies_when_the_field_is_left_out() -> None:
    table = load("parameters.json")["rows"]
    c = client()
    body = c.post(ROOT + "/v1/generate", headers=H, json={"model": "kling-o3", "prompt": "a fox"}).json()
    job = c.sim.engine.get("prospolabs", body["generation_id"])
    assert job is not None
    for row in table:
        if "default" in row:
            assert job.request[row["name"]] == row["default"], row["name"]
    assert body["mode"] == "text"
    assert body["estimated_cost_usd"] == 0.5  # standard, audio off, 5 s
    assert (job.plan.output.lines, job.plan.output.audio, job.plan.output.aspect_ratio) == (
        720,
        False,
        "16:9",
    )


@pytest.mark.parametrize("row", load("parameters.json")["rows"], ids=lambda row: row["name"])
def test_every_enum_value_of_the_parameter_table_is_accepted(row: dict[str, Any]) -> None:
    c = client()
    for value in row.get("enum", []):
        body: dict[str, Any] = {"model": "kling-o3", "prompt": "a fox", row["name"]: value}
        if value == "image":
            body["image_url"] = "https://example.com/start.png"
        response = c.post(ROOT + "/v1/generate", headers=H, json=body)
        assert response.status_code == 200, (row["name"], value, response.json())
        assert response.json()["status"] == "completed"


def test_the_page_documents_the_parameters_the_spec_declares() -> None:
    variant = SPEC.endpoint(SPEC.endpoints[0].action).body
    assert variant is not None
    params = {p.name: p for p in variant.variants[0].params}
    for row in load("parameters.json")["rows"]:
        param = params[row["name"]]
        if "default" in row:
            assert param.default == row["default"]
        if "enum" in row:
            assert list(param.enum or ()) == row["enum"]
        if "minimum" in row:
            assert (param.minimum, param.maximum) == (row["minimum"], row["maximum"])
        assert param.required == row.get("required", False)


def test_output_expiry_answer_is_the_documented_body() -> None:
    example = load("output_expired.json")
    assert SPEC.urls.lifetime_seconds == example["lifetime_seconds"]
    assert SPEC.urls.expired_status == example["expired"]["status"]
    assert dict(SPEC.urls.expired_body or {}) == example["expired"]["body"]


def test_openapi_document_is_served_and_describes_both_routes() -> None:
    response = client().get(ROOT + "/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/v1/generate", "/v1/generations/{generation_id}"}
    create = doc["paths"]["/v1/generate"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["duration"]["minimum"] == 3
    assert schema["properties"]["duration"]["maximum"] == 15
    assert schema["properties"]["quality"]["enum"] == ["standard", "pro"]
    assert [p["name"] for p in create["parameters"]] == ["async"]
    assert {"400", "401", "402", "404", "429"} <= set(create["responses"])
    example = create["responses"]["402"]["content"]["application/json"]["examples"]["insufficient_balance"]
    assert example["value"] == {"code": "insufficient_balance", "message": "Insufficient balance"}
