"""EvoLink against the examples of its seed page (001) and its public API pages (fixtures/evolink/)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from klingsim.providers import evolink
from klingsim.providers._evolink_prices import usd_per_second
from tests.support import SimClient, bearer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "evolink"
SEED_FILE = ROOT / "fixtures" / "seeds" / "001_12a015e8ae57e13b.txt"  # the page, copied into the project
H = bearer("sk-evo-golden0123456789")
ID_FORM = re.compile(r"task-unified-\d+-[a-z0-9]{8}")


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


PARAM_EXAMPLES = load("seed_parameter_examples.json")["examples"]
PRICE_ROWS = load("seed_prices.json")["rows"]


def client() -> SimClient:
    return SimClient([evolink.SPEC])


def shape(value: Any) -> Any:
    """The JSON types of a value, recursively (dict keys kept), to compare answers with examples."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_every_fixture_quote_is_on_the_seed_page() -> None:
    text = SEED_FILE.read_text()
    for item in [*PARAM_EXAMPLES, *PRICE_ROWS]:
        assert item["quote"] in text, item["quote"]


@pytest.mark.parametrize("example", PARAM_EXAMPLES, ids=[e["param"] for e in PARAM_EXAMPLES])
def test_each_seed_parameter_example_is_accepted_and_priced_as_the_page_says(example: dict[str, Any]) -> None:
    c = client()
    response = c.post("/evolink/v1/videos/generations", headers=H, json=example["body"])
    assert response.status_code == 200, response.text
    task = response.json()
    expect = example["expect"]
    assert ID_FORM.fullmatch(task["id"])
    assert task["status"] == "pending" and task["progress"] == 0
    assert task["model"] == expect.get("model", "kling-o3-text-to-video")
    assert task["task_info"]["video_duration"] == expect["video_duration"]
    assert task["usage"] == {
        "billing_rule": "per_second",
        "credits_reserved": int(Decimal(expect["credits"]) * 10_000),
        "user_group": "default",
    }
    job = c.sim.engine.get("evolink", task["id"])
    assert job is not None
    assert job.cost == Decimal(expect["credits"])
    if "audio" in expect:
        assert job.plan.output.audio is expect["audio"]
    if "frame" in expect:
        from klingsim.core.media import frame_size

        assert list(frame_size(job.plan.output.aspect_ratio, job.plan.output.lines)) == expect["frame"]


@pytest.mark.parametrize("row", PRICE_ROWS, ids=[f"{r['quality']}-{r['sound']}" for r in PRICE_ROWS])
def test_each_seed_price_row_through_the_api(row: dict[str, Any]) -> None:
    c = client()
    for seconds in (3, 5, 15):
        body = {"prompt": "x", "quality": row["quality"], "sound": row["sound"], "duration": seconds}
        task = c.post("/evolink/v1/videos/generations", headers=H, json=body).json()
        credits = Decimal(row["credits_per_second"]) * seconds
        assert task["usage"]["credits_reserved"] == int(credits * 10_000)
        job = c.sim.engine.get("evolink", task["id"])
        assert job is not None and job.cost == credits


@pytest.mark.parametrize("row", PRICE_ROWS, ids=[f"{r['quality']}-{r['sound']}" for r in PRICE_ROWS])
def test_each_seed_price_row_in_the_table_multiplier_credits_and_dollars(row: dict[str, Any]) -> None:
    table = evolink.SPEC.prices
    key = {"model": "kling-o3-text-to-video", "quality": row["quality"], "sound": row["sound"]}
    rate = table.rate_for(key)
    assert rate.multiplier == Decimal(row["multiplier"])
    # the rounded multipliers as written give exactly the page's credits (7.2036, 9.0018), not 4/3 or 5/3
    assert table.per_second(rate) == Decimal(row["credits_per_second"])
    assert usd_per_second(table.per_second(rate)) == Decimal(row["usd_per_second"])
    assert rate.doc.quote == row["quote"]


def test_base_price_and_minimum_billing_are_the_pages() -> None:
    prices = load("seed_prices.json")
    assert evolink.SPEC.prices.base_per_second == Decimal(prices["base_credits_per_second"])
    assert evolink.SPEC.prices.minimum_seconds == prices["minimum_billed_seconds"]


SIBLING_EXAMPLES = load("public_create_examples.json")["examples"]


@pytest.mark.parametrize("example", SIBLING_EXAMPLES, ids=[e["body"]["model"] for e in SIBLING_EXAMPLES])
def test_public_sibling_examples_answer_with_the_documented_shape(example: dict[str, Any]) -> None:
    documented = load("public_create_examples.json")["response"]
    c = client()
    response = c.post("/evolink/v1/videos/generations", headers=H, json=example["body"])
    assert response.status_code == 200, response.text
    task = response.json()
    assert shape(task) == shape(documented)
    assert ID_FORM.fullmatch(task["id"]) and ID_FORM.fullmatch(documented["id"])
    assert task["model"] == example["body"]["model"]
    for field in ("object", "progress", "status", "type"):
        assert task[field] == documented[field]
    assert task["task_info"]["can_cancel"] is True
    assert task["task_info"]["estimated_time"] == documented["task_info"]["estimated_time"]
    assert task["usage"]["user_group"] == documented["usage"]["user_group"]
    assert task["usage"]["billing_rule"] == example["billing_rule"]
    assert task["created"] == int(c.clock.now())


def test_per_second_reservation_matches_the_public_example_scale() -> None:
    documented = load("public_create_examples.json")["per_second_response"]
    body = {"prompt": "x", "duration": 5}
    task = client().post("/evolink/v1/videos/generations", headers=H, json=body).json()
    assert task["task_info"]["video_duration"] == documented["video_duration"]
    assert task["usage"]["billing_rule"] == documented["billing_rule"]
    assert task["usage"]["credits_reserved"] == documented["credits_reserved"]


def test_completed_task_has_every_field_of_the_task_detail_example() -> None:
    documented = load("public_task_detail.json")["completed"]
    c = client()
    task_id = c.post("/evolink/v1/videos/generations", headers=H, json={"prompt": "x"}).json()["id"]
    c.advance(3600)
    task = c.get(f"/evolink/v1/tasks/{task_id}", headers=H).json()
    for field, value in documented.items():
        assert field in task
        assert shape(task[field]) == shape(value) or field == "task_info"
    assert task["status"] == "completed" and task["progress"] == 100
    assert task["task_info"]["can_cancel"] is False
    assert task["object"] == "video.generation.task" and task["type"] == "video"
    assert len(task["results"]) == 1 and task["results"][0].startswith("http://testserver/")


def test_invalid_task_id_answers_exactly_the_documented_error() -> None:
    documented = load("public_task_detail.json")["invalid_task_id"]
    response = client().get("/evolink/v1/tasks/not-a-task", headers=H)
    assert response.status_code == documented["status"]
    body = response.json()
    expected = documented["body"]["error"]
    assert body["error"]["code"] == expected["code"]
    assert body["error"]["type"] == expected["type"] and body["error"]["param"] == expected["param"]
    assert body["error"]["message"].startswith(expected["message"])


def test_validation_errors_use_the_documented_envelope() -> None:
    documented = load("public_errors.json")["envelope_example"]
    response = client().post("/evolink/v1/videos/generations", headers=H, json={"prompt": "x" * 2501})
    assert response.status_code == 400
    body = response.json()
    assert shape(body) == shape(documented)
    assert body["error"]["code"] == 400 and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == "prompt"


def test_credits_answer_has_the_documented_shape_and_reflects_the_ledger() -> None:
    documented = load("public_credits.json")["response"]
    c = client()
    c.sim.set_balance("evolink", "sk-evo-golden0123456789", Decimal("1095.3996"))
    c.post("/evolink/v1/videos/generations", headers=H, json={"prompt": "x", "duration": 5})
    c.advance(3600)
    body = c.get("/evolink/v1/credits", headers=H).json()
    assert shape(body) == shape(documented)
    assert body["success"] is True and body["message"] == ""
    assert body["data"]["user"] == {"remaining_credits": 1068.3996, "used_credits": 27.0}
    assert body["data"]["token"]["unlimited_credits"] is False


def test_openapi_document_is_served_with_every_endpoint_and_model() -> None:
    response = client().get("/evolink/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert set(doc["paths"]) == {"/v1/videos/generations", "/v1/tasks/{task_id}", "/v1/credits"}
    create = doc["paths"]["/v1/videos/generations"]["post"]
    variants = create["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [v["title"] for v in variants] == list(evolink.SPEC.models)
    t2v = variants[0]["properties"]
    assert t2v["prompt"]["maxLength"] == 2500
    assert (t2v["duration"]["minimum"], t2v["duration"]["maximum"]) == (3, 15)
    assert t2v["sound"]["enum"] == ["on", "off"] and t2v["callback_url"]["maxLength"] == 2048
    assert variants[2]["properties"]["duration"]["maximum"] == 10
    assert {"400", "401", "402", "429"} <= set(create["responses"])
    assert "400" in doc["paths"]["/v1/tasks/{task_id}"]["get"]["responses"]
