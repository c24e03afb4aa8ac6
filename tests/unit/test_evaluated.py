"""Create bodies evaluated once (core.evaluated): a repeat answers as a first request would, every time."""

from __future__ import annotations

import json

from klingsim.core.evaluated import EvaluatedCreates
from tests.support import SimClient, bearer

EVO = bearer("sk-evo-0123456789abcdef")
CREATE = "/evolink/v1/videos/generations"
BODY = {"model": "kling-o3-text-to-video", "prompt": "a fox", "quality": "1080p", "duration": 10}


def kept(client: SimClient, provider: str = "evolink") -> int:
    return len(client.sim.runtimes[provider].evaluated)


def test_a_repeated_body_is_evaluated_once_and_answered_like_the_first() -> None:
    cached, fresh = SimClient(), SimClient()
    cached_answers = [cached.post(CREATE, headers=EVO, json=BODY) for _ in range(3)]
    fresh_answers = []
    for _ in range(3):
        fresh.sim.runtimes["evolink"].evaluated = EvaluatedCreates(max_kept=0)  # never keeps anything
        fresh_answers.append(fresh.post(CREATE, headers=EVO, json=BODY))
    assert kept(cached) == 1 and kept(fresh) == 0
    assert [a.json() for a in cached_answers] == [a.json() for a in fresh_answers]
    assert len({a.json()["id"] for a in cached_answers}) == 3  # three jobs, three charges
    balance = cached.get("/evolink/v1/credits", headers=EVO).json()
    assert balance == fresh.get("/evolink/v1/credits", headers=EVO).json()
    jobs = [cached.sim.engine.get("evolink", a.json()["id"]) for a in cached_answers]
    assert all(j is not None and j.request["duration"] == 10 for j in jobs)


def test_a_job_changing_its_request_does_not_change_the_kept_evaluation() -> None:
    client = SimClient()
    first = client.post(CREATE, headers=EVO, json=BODY).json()["id"]
    job = client.sim.engine.get("evolink", first)
    assert job is not None
    job.request = {**job.request, "duration": 5}
    second = client.post(CREATE, headers=EVO, json=BODY).json()["id"]
    again = client.sim.engine.get("evolink", second)
    assert again is not None and again.request["duration"] == 10


def test_hints_come_back_with_every_repeat() -> None:
    client = SimClient()
    typo = {**BODY, "qualty": "1080p"}
    answers = [client.post(CREATE, headers=EVO, json=typo) for _ in range(2)]
    assert kept(client) == 1
    hint = 'unknown field "qualty"; did you mean "quality"?'
    assert [a.headers["x-klingsim-hint"] for a in answers] == [hint, hint]
    assert [e["hints"] for e in client.sim.journal.entries()] == [[hint], [hint]]


def test_refusals_are_evaluated_again_and_never_kept() -> None:
    client = SimClient()
    bad = {**BODY, "duration": 99}
    answers = [client.post(CREATE, headers=EVO, json=bad) for _ in range(2)]
    assert {a.status_code for a in answers} == {400}
    assert answers[0].json() == answers[1].json()
    assert kept(client) == 0


def test_the_key_tells_bodies_content_types_and_options_apart() -> None:
    client = SimClient()
    client.post(CREATE, headers=EVO, json=BODY)
    client.post(CREATE, headers=EVO, json={**BODY, "prompt": "a hare"})
    raw = json.dumps(BODY).encode()
    client.post(CREATE, headers={**EVO, "content-type": "application/vnd.api+json"}, content=raw)
    assert kept(client) == 3
    client.sim.strict_fields = True
    typo = client.post(CREATE, headers=EVO, json={**BODY, "qualty": "1080p"})
    assert typo.status_code == 400  # the non-strict evaluation of another body is not reused
    client.sim.strict_fields = False
    assert client.post(CREATE, headers=EVO, json=BODY).status_code == 200
    assert kept(client) == 3


def test_requests_naming_media_inputs_are_not_kept() -> None:
    client = SimClient()
    body = {
        "model": "kling-o3-reference-to-video",
        "prompt": "a fox",
        "video_url": "https://example.com/in.mp4",
    }
    answers = [client.post(CREATE, headers=EVO, json=body) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    assert kept(client) == 0


def test_the_oldest_evaluation_is_forgotten_first() -> None:
    client = SimClient()
    client.sim.runtimes["evolink"].evaluated = EvaluatedCreates(max_kept=2)
    for prompt in ("one", "two", "three"):
        client.post(CREATE, headers=EVO, json={**BODY, "prompt": prompt})
    assert kept(client) == 2
    cache = client.sim.runtimes["evolink"].evaluated
    prompts = {e.request["prompt"] for e in cache._kept.values()}
    assert prompts == {"two", "three"}
