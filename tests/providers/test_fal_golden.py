"""fal.ai's queue against the public examples transcribed in fixtures/fal/ (each names its origin)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.kling_auth import fal_headers
from tests.support import SimClient

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fal"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
H = fal_headers()
T2V = "/fal/fal-ai/kling-video/o3/standard/text-to-video"
APP = "http://testserver/fal/fal-ai/kling-video/requests"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def test_every_fixture_names_its_origin() -> None:
    for path in FIXTURES.glob("*.json"):
        source = json.loads(path.read_text())["source"]
        assert source["origin"] and source["quote"], path.name


def submit(c: SimClient, body: dict[str, Any] | None = None, path: str = T2V) -> dict[str, Any]:
    response = c.post(path, headers=H, json=body or load("queue_submit.json")["request"]["body"])
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_submit_answers_like_the_queue_page() -> None:
    example = load("queue_submit.json")
    answer = submit(SimClient())
    assert answer.keys() == example["example_response"].keys()
    request_id = answer["request_id"]
    assert UUID.fullmatch(request_id)
    assert answer["status"] == "IN_QUEUE" and answer["queue_position"] == 0
    # Absolute URLs on the simulator's origin that drop the endpoint subpath (o3/standard/text-to-video).
    assert answer["response_url"] == f"{APP}/{request_id}"
    assert answer["status_url"] == f"{APP}/{request_id}/status"
    assert answer["cancel_url"] == f"{APP}/{request_id}/cancel"


def test_status_moves_through_the_documented_words_with_their_http_statuses() -> None:
    example = load("status.json")
    c = SimClient()
    answer = submit(c)
    status = c.get(answer["status_url"], headers=H)
    assert status.status_code == example["examples"]["IN_QUEUE"]["http"]
    assert status.json()["status"] == "IN_QUEUE" and status.json()["queue_position"] == 0
    seen = ["IN_QUEUE"]
    for _ in range(600):
        c.advance(1)
        status = c.get(answer["status_url"], headers=H)
        word = status.json()["status"]
        assert status.status_code == example["examples"][word]["http"]
        if word != seen[-1]:
            seen.append(word)
        if word == "COMPLETED":
            break
    assert seen == example["status_words"]
    done = status.json()
    assert set(example["examples"]["COMPLETED"]["body"]) <= set(done)
    assert done["logs"] is None
    assert (
        isinstance(done["metrics"]["inference_time"], float | int) and done["metrics"]["inference_time"] > 0
    )
    assert "error" not in done or done["error"] is None


def test_logs_only_with_the_logs_query() -> None:
    c = SimClient()
    answer = submit(c)
    c.advance(3600)
    assert c.get(answer["status_url"], headers=H).json()["logs"] is None
    logs = c.get(answer["status_url"] + "?logs=1", headers=H).json()["logs"]
    assert isinstance(logs, list) and logs and {"message", "timestamp"} <= set(logs[0])


def test_result_is_the_video_with_its_real_byte_count_and_billable_units() -> None:
    example = load("result.json")
    c = SimClient()
    answer = submit(c)
    c.advance(3600)
    result = c.get(answer["response_url"], headers=H)
    assert result.status_code == 200
    body = result.json()
    assert body.keys() == example["example_response"].keys()
    video = body["video"]
    assert video.keys() == example["example_response"]["video"].keys()
    assert video["content_type"] == "video/mp4" and video["file_name"] == "output.mp4"
    data = c.get(video["url"]).content
    assert data[4:8] == b"ftyp" and video["file_size"] == len(data)
    assert result.headers[example["billable_units_header"]] == "5"


def test_result_before_completion_is_202_with_the_status_body() -> None:
    c = SimClient()
    answer = submit(c)
    early = c.get(answer["response_url"], headers=H)
    assert early.status_code == 202 and early.json()["status"] == "IN_QUEUE"


@pytest.mark.parametrize("row", load("cancel.json")["answers"], ids=lambda a: a["when"])
def test_cancel_answers(row: dict[str, Any]) -> None:
    c = SimClient()
    answer = submit(c)
    url = answer["cancel_url"]
    if row["when"] == "completed":
        c.advance(3600)
    if row["when"] == "unknown":
        url = f"{APP}/00000000-0000-4000-8000-000000000000/cancel"
    response = c.request("PUT", url, headers=H)
    assert response.status_code == row["http"]
    assert response.json() == row["body"]


def test_every_model_id_is_served_and_an_unknown_one_is_404() -> None:
    models = load("models.json")["models"]
    assert len(models) == 12
    c = SimClient()
    for model, info in models.items():
        body: dict[str, Any] = {"prompt": "a fox"}
        if "requires" in info:
            body[info["requires"]] = "https://example.com/input." + (
                "mp4" if "video" in info["requires"] else "png"
            )
        response = c.post(f"/fal/{model}", headers=H, json=body)
        assert response.status_code == 200, (model, response.text)
        c.advance(3600)
    unknown = c.post("/fal/fal-ai/kling-video/v9/standard/text-to-video", headers=H, json={"prompt": "x"})
    assert unknown.status_code == 404 and "detail" in unknown.json()


def test_validation_error_is_fals_own_422_detail_list() -> None:
    example = load("errors.json")["validation_example"]
    response = SimClient().post(T2V, headers=H, json={"duration": "5"})
    assert response.status_code == example["http"]
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert detail[0].keys() == example["body"]["detail"][0].keys()
    assert detail[0]["loc"] == ["body", "prompt"]


@pytest.mark.parametrize("row", load("errors.json")["infrastructure"], ids=lambda r: r["error_type"])
def test_infrastructure_errors_through_the_prompt_marker(row: dict[str, Any]) -> None:
    c = SimClient()
    answer = submit(c, {"prompt": f"a fox [klingsim:fail={row['error_type']}]"})
    c.advance(3600)
    status = c.get(answer["status_url"], headers=H)
    assert status.status_code == 200 and status.json()["status"] == "COMPLETED" and status.json()["error"]
    result = c.get(answer["response_url"], headers=H)
    assert result.status_code == row["http"]
    assert result.json()["error_type"] == row["error_type"] and isinstance(result.json()["detail"], str)
    assert result.headers["x-fal-error-type"] == row["error_type"]


def test_webhook_body_matches_the_page() -> None:
    example = load("webhook.json")
    sent: list[dict[str, Any]] = []

    def transport(
        url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        sent.append(payload)
        assert timeout == example["timeout_seconds"]
        return 200, None

    c = SimClient(callback_transport=transport)
    response = c.post(T2V + "?fal_webhook=https://hooks.example.com/fal", headers=H, json={"prompt": "a fox"})
    answer = response.json()
    assert "gateway_request_id" in answer
    c.advance(3600)
    assert len(sent) == 1
    assert sent[0].keys() == example["ok_example"].keys()
    assert sent[0]["status"] == "OK" and sent[0]["error"] is None
    assert sent[0]["request_id"] == answer["request_id"]
    assert sent[0]["payload"]["video"]["file_name"] == "output.mp4"


def test_answers_conform_to_the_documented_schemas() -> None:
    from klingsim.providers import by_id
    from tests.unit.test_openapi_responses import conforms

    spec = by_id("fal")
    c = SimClient()
    answer = submit(c)
    conforms(spec, "POST", "/{model_id}", 200, answer)
    status_path = "/fal-ai/kling-video/requests/{request_id}/status"
    conforms(spec, "GET", status_path, 202, c.get(answer["status_url"], headers=H).json())
    c.advance(3600)
    conforms(spec, "GET", status_path, 200, c.get(answer["status_url"] + "?logs=1", headers=H).json())
    result = c.get(answer["response_url"], headers=H).json()
    conforms(spec, "GET", "/fal-ai/kling-video/requests/{request_id}", 200, result)
