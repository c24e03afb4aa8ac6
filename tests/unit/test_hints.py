"""Near-miss hints: unknown fields and paths keep the provider answer, plus a hint with the closest name."""

from __future__ import annotations

import pytest

from klingsim.core import hints
from tests.support import SimClient, bearer

EVO = bearer("sk-evo-0123456789abcdef")
CREATE = "/evolink/v1/videos/generations"
TYPO = {"model": "kling-o3-text-to-video", "prompt": "a fox", "qualty": "1080p", "duraton": 10}


@pytest.fixture
def client() -> SimClient:
    return SimClient()


def test_unknown_fields_are_ignored_as_the_provider_does_but_hinted(client: SimClient) -> None:
    answer = client.post(CREATE, headers=EVO, json=TYPO)
    assert answer.status_code == 200
    task = client.sim.engine.get("evolink", answer.json()["id"])
    assert task is not None and task.request["quality"] == "720p" and task.request["duration"] == 5
    expected = [
        'unknown field "qualty"; did you mean "quality"?',
        'unknown field "duraton"; did you mean "duration"?',
    ]
    assert answer.headers["x-klingsim-hint"] == "; ".join(expected)
    assert client.sim.journal.entries()[-1]["hints"] == expected


def test_known_fields_get_no_hint(client: SimClient) -> None:
    body = {"model": "kling-o3-text-to-video", "prompt": "a fox", "quality": "1080p"}
    answer = client.post(CREATE, headers=EVO, json=body)
    assert answer.status_code == 200 and "x-klingsim-hint" not in answer.headers
    assert "hints" not in client.sim.journal.entries()[-1]


def test_a_field_nothing_like_any_known_one_is_named_without_a_guess(client: SimClient) -> None:
    body = {"model": "kling-o3-text-to-video", "prompt": "a fox", "zzzzzz": 1}
    answer = client.post(CREATE, headers=EVO, json=body)
    assert answer.headers["x-klingsim-hint"] == 'unknown field "zzzzzz"'


def test_a_wrong_path_keeps_the_provider_404_and_names_the_closest_route(client: SimClient) -> None:
    answer = client.post("/evolink/v1/video/generations", headers=EVO, json=TYPO)
    assert answer.status_code == 404 and "error" in answer.json()
    assert answer.headers["x-klingsim-hint"] == (
        'unknown path POST "/v1/video/generations" for evolink; did you mean POST "/v1/videos/generations"?'
    )
    assert client.sim.journal.entries()[-1]["hints"] == [answer.headers["x-klingsim-hint"]]


def test_hints_are_ascii_and_bounded_whatever_the_client_sends(client: SimClient) -> None:
    body = {"model": "kling-o3-text-to-video", "prompt": "a fox", "qualité\r\nx": 1, "q" * 5000: 2}
    body.update({f"extra{i}": i for i in range(100)})
    answer = client.post(CREATE, headers=EVO, json=body)
    assert answer.status_code == 200
    hint = answer.headers["x-klingsim-hint"]
    assert hint.isascii() and "\r" not in hint and "\n" not in hint
    assert hint.count("unknown field") == hints.MAX_HINTS and len(hint) < 1000


def test_strict_fields_refuses_an_unknown_field_in_the_provider_shape() -> None:
    client = SimClient(strict_fields=True)
    answer = client.post(CREATE, headers=EVO, json=TYPO)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["param"] == "qualty" and 'did you mean "quality"' in error["message"]
    assert not list(client.sim.engine.jobs())


def test_each_provider_knows_its_own_documented_fields(client: SimClient) -> None:
    body = {"type": "pro-text-to-video", "prompt": "x", "duration": 5, "aspect_ratio": "16:9"}
    answer = client.post("/kling3api/api/generate", headers=bearer("k3a_live_0123456789abcdef"), json=body)
    assert answer.status_code == 200 and "x-klingsim-hint" not in answer.headers
