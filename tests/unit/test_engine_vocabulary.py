"""The spec vocabulary, end to end through HTTP, on the synthetic `tiny` provider (tiny_spec.py)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import httpx
import pytest

from klingsim.core.auth import encode_hs256
from klingsim.core.evaluate import broken_constraint, constraints, evaluate
from klingsim.spec import CallbackPolicy, ErrorSpec, HeaderKey, TokenScheme, fill_envelope
from tests.support import SimClient
from tests.unit.tiny_spec import SPEC

SECRET = "s3cret"
KEY = "ak-test1"


def token(key: str = KEY, secret: str = SECRET, *, exp: float = 1800, nbf: float = -5, **extra: Any) -> str:
    now = time.time()
    return encode_hs256({"iss": key, "exp": now + exp, "nbf": now + nbf, **extra}, secret)


def jwt(key: str = KEY, secret: str = SECRET, **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(key, secret, **kw)}"}


@pytest.fixture
def client() -> SimClient:
    c = SimClient([SPEC])
    c.sim.keys.add("tiny", KEY)
    c.sim.keys.set_secret("tiny", KEY, SECRET)
    c.sim.set_balance("tiny", KEY, 100)  # type: ignore[arg-type]
    return c


def put(client: SimClient, url: str, **kw: Any) -> httpx.Response:
    return client.request("PUT", url, **kw)


# ----------------------------------------------------------------------------------------- auth
@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "1001"),
        ({"Authorization": "Bearer not-a-jwt"}, "1002"),
        ({"Authorization": "Basic abc"}, "1002"),
        ({"Authorization": f"Bearer {token(secret='wrong')}"}, "1000"),
        # Minted at collection: a day ahead stays "not yet valid" however long the run takes.
        ({"Authorization": f"Bearer {token(nbf=86_400)}"}, "1003"),
        ({"Authorization": f"Bearer {token(exp=-600)}"}, "1004"),
    ],
)
def test_jwt_failures_answer_their_documented_codes(
    client: SimClient, headers: dict[str, str], code: str
) -> None:
    answer = client.get("/tiny/account", headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (401, code)


def test_jwt_leeway_tolerates_small_clock_skew(client: SimClient) -> None:
    assert client.get("/tiny/account", headers=jwt(exp=-2)).status_code == 200
    assert client.get("/tiny/account", headers=jwt(nbf=3)).status_code == 200


def test_an_unseen_access_key_is_provisioned_and_trusted_unless_strict() -> None:
    loose = SimClient([SPEC])
    assert loose.get("/tiny/account", headers=jwt("ak-newcomer", "any")).json() == {"balance": 100.0}
    strict = SimClient([SPEC], strict_keys=True)
    assert strict.get("/tiny/account", headers=jwt("ak-newcomer", "any")).json()["code"] == "1000"


def test_token_and_header_key_schemes() -> None:
    fal = dataclasses.replace(SPEC, auth=dataclasses.replace(SPEC.auth, schemes=(TokenScheme("Key"),)))
    client = SimClient([fal])
    assert client.get("/tiny/account", headers={"Authorization": "Key ak-abcd"}).status_code == 200
    wrong = client.get("/tiny/account", headers={"Authorization": "Bearer ak-abcd"})
    assert wrong.json() == {
        "code": "1002",
        "message": "Authorization is invalid: Authorization must be 'Key <api key>'",
    }
    header = dataclasses.replace(SPEC, auth=dataclasses.replace(SPEC.auth, schemes=(HeaderKey("x-api-key"),)))
    assert SimClient([header]).get("/tiny/account", headers={"x-api-key": "ak-abcd"}).status_code == 200


# ----------------------------------------------------------------------------------------- operations
def test_several_creates_each_with_its_own_path_and_variant_key(client: SimClient) -> None:
    made = client.post("/tiny/v1/videos/text2video", json={"prompt": "a cat"}, headers=jwt())
    assert made.status_code == 200 and made.json()["operation"] == "text2video"
    by_path = client.post("/tiny/acme/video/fast", json={"prompt": "a dog"}, headers=jwt())
    assert by_path.status_code == 200 and by_path.json()["operation"] == "run"
    unknown = client.post("/tiny/acme/video/nope", json={"prompt": "a dog"}, headers=jwt())
    assert (unknown.status_code, unknown.json()["message"]) == (
        404,
        "Unknown model_id: 'acme/video/nope'",
    )
    assert client.get("/tiny/acme/video/fast", headers=jwt()).status_code == 405


def test_status_finds_jobs_by_path_query_and_external_id_within_its_creates(client: SimClient) -> None:
    t2v = client.post(
        "/tiny/v1/videos/text2video", json={"prompt": "a cat", "external_task_id": "mine-1"}, headers=jwt()
    ).json()["task_id"]
    run = client.post("/tiny/acme/video/fast", json={"prompt": "a dog"}, headers=jwt()).json()["task_id"]
    assert client.get(f"/tiny/v1/videos/text2video/{t2v}", headers=jwt()).json()["task_id"] == t2v
    assert client.get("/tiny/v1/videos/text2video/mine-1", headers=jwt()).json()["task_id"] == t2v
    assert client.get(f"/tiny/v1/videos/text2video/{run}", headers=jwt()).status_code == 404
    assert client.get("/tiny/v1/status", params={"id": run}, headers=jwt()).json()["task_id"] == run
    listed = client.get("/tiny/v1/videos/text2video", headers=jwt()).json()["data"]
    assert [j["task_id"] for j in listed] == [t2v]
    for bad in ("0", "501", "x", "1.5"):
        refused = client.get("/tiny/v1/videos/text2video", params={"pageSize": bad}, headers=jwt())
        assert (refused.status_code, refused.json()["code"]) == (400, "1201"), bad
    assert (
        client.get("/tiny/v1/videos/text2video", params={"pageSize": "500"}, headers=jwt()).status_code == 200
    )
    again = client.post(
        "/tiny/v1/videos/text2video", json={"prompt": "b", "external_task_id": "mine-1"}, headers=jwt()
    )
    assert (again.status_code, again.json()["code"]) == (400, "1201")


def test_pending_status_result_and_cancel(client: SimClient) -> None:
    made = client.post("/tiny/acme/video/slow", json={"prompt": "x"}, headers=jwt()).json()
    job = made["task_id"]
    assert made["status_url"] == f"http://testserver/tiny/v1/requests/{job}/status"  # origin + mount
    assert client.get(made["status_url"], headers=jwt()).status_code == 202
    logged = client.get(f"/tiny/v1/requests/{job}/status", params={"logs": "1"}, headers=jwt())
    assert logged.json()["logs"] == [] and "logs" not in made
    pending = client.get(f"/tiny/v1/requests/{job}", headers=jwt())
    assert (pending.status_code, pending.json()["task_status"]) == (202, "submitted")
    client.advance(60)
    done = client.get(f"/tiny/v1/requests/{job}", headers=jwt())
    assert done.status_code == 200 and done.json()["video"]["url"].startswith("http://testserver/")
    assert client.get(f"/tiny/v1/requests/{job}/status", headers=jwt()).status_code == 200
    late = put(client, f"/tiny/v1/requests/{job}/cancel", headers=jwt())
    assert (late.status_code, late.json()) == (400, {"status": "ALREADY_COMPLETED"})
    other = client.post("/tiny/acme/video/slow", json={"prompt": "x"}, headers=jwt()).json()["task_id"]
    cancelled = put(client, f"/tiny/v1/requests/{other}/cancel", headers=jwt())
    assert (cancelled.status_code, cancelled.json()) == (202, {"status": "CANCELLATION_REQUESTED"})
    failed = client.get(f"/tiny/v1/requests/{other}", headers=jwt())
    assert failed.status_code == 500 and failed.headers["x-error-type"] == "internal_error"
    missing = put(client, "/tiny/v1/requests/000000000000000000/cancel", headers=jwt())
    assert (missing.status_code, missing.json()) == (404, {"status": "NOT_FOUND"})
    assert client.get("/tiny/account", headers=jwt()).json() == {
        "balance": 99.0
    }  # 1.0 for the finished job; the cancel was refunded


def test_concurrency_limit_and_its_setting_write_through(client: SimClient) -> None:
    for _ in range(3):
        assert client.post("/tiny/acme/video/fast", json={"prompt": "x"}, headers=jwt()).status_code == 200
    over = client.post("/tiny/acme/video/fast", json={"prompt": "x"}, headers=jwt())
    assert (over.status_code, over.json()["code"]) == (429, "1303")
    assert SPEC.with_settings({"max_concurrent_jobs": 9}).concurrency.max_jobs == 9  # type: ignore[union-attr]


def test_settings_write_through_to_typed_fields() -> None:
    changed = SPEC.with_settings({"create_success_status": 202, "jwt_leeway_seconds": 0})
    assert {op.success_status for op in changed.operations() if op.action == "create"} == {202}
    assert changed.auth.signed is not None and changed.auth.signed.leeway_seconds == 0
    client = SimClient([changed])
    client.sim.set_balance("tiny", KEY, 100)  # type: ignore[arg-type]
    answer = client.post("/tiny/v1/videos/text2video", json={"prompt": "a"}, headers=jwt())
    assert answer.status_code == 202


# ----------------------------------------------------------------------------------------- evaluate
@pytest.mark.parametrize(
    ("body", "constraint"),
    [
        ({"prompt": "ok"}, None),
        ({"options": 5, "prompt": "ok"}, "tiny.options-object"),
        ({}, "tiny.prompt-unless-multi-shot"),
        ({"prompt": "ok", "duration": 99}, "duration:maximum"),
        ({"prompt": "ok", "refs": "a,,b"}, "tiny.refs-no-empty"),
        ({"prompt": "ok", "refs": "a,b,c"}, "tiny.refs-count"),
        ({"multi_shot": True, "shots": [{"prompt": "a", "seconds": "x"}]}, "tiny.shot-seconds"),
        ({"multi_shot": True, "shots": [{"prompt": "a", "seconds": "2"}]}, "tiny.shots-sum"),
        ({"prompt": "ok", "video": "v", "images": ["a"] * 3, "elements": [1, 2]}, "tiny.images-elements"),
        ({"prompt": " ".join(["w"] * 21)}, "tiny.words"),
        ({"prompt": "a forbidden word"}, "tiny.secret-word"),
    ],
)
def test_evaluate_names_the_broken_constraint(body: dict[str, Any], constraint: str | None) -> None:
    assert broken_constraint(SPEC, body) == constraint


def test_evaluate_is_pure_and_plans_valid_bodies() -> None:
    first = evaluate(SPEC, {"prompt": "ok", "duration": 7})
    assert first == evaluate(SPEC, {"prompt": "ok", "duration": 7})
    assert first.ok and first.plan is not None and str(first.price) == "1.40"
    assert first.request is not None and first.request["model_name"] == "tiny-1"
    probed = evaluate(SPEC, {"prompt": "ok", "video": "v"}, probed={"video": 12.0})
    assert probed.constraint == "tiny.video-length" and probed.error == "bad_request"
    by_path = evaluate(SPEC, {"prompt": "x"}, "run", path_params={"model_id": "acme/video/fast"})
    assert by_path.ok and by_path.variant is not None and by_path.variant.name == "acme/video/fast"


def test_the_constraint_catalogue_lists_every_declared_rule() -> None:
    ids = {c.id for c in constraints(SPEC)}
    assert {"tiny.options-object", "tiny.prompt-unless-multi-shot", "tiny.secret-word", "tiny.words"} <= ids


def test_envelopes_fill_placeholders_inside_lists() -> None:
    template = {"detail": [{"loc": ["body", "$param"], "msg": "$message", "type": "$type"}]}
    error = ErrorSpec("validation", 422, "Invalid", SPEC.docs[0], type="value_error")
    filled = fill_envelope(template, error, "duration must be at most 15", "duration")
    assert filled == {
        "detail": [{"loc": ["body", "duration"], "msg": "duration must be at most 15", "type": "value_error"}]
    }


def test_totals_read_numbers_sent_as_strings_and_skip_what_is_not_a_number() -> None:
    from klingsim.spec import Facts, Total

    rule = Total(
        "t", "bad_request", SPEC.docs[0], "{total} != {target}", path="shots", field="d", equals="dur"
    )
    shots = [{"d": "4"}, {"d": "6"}]
    assert rule.check(Facts({"shots": shots, "dur": "10"})) is None  # Kling's durations are strings
    assert rule.check(Facts({"shots": shots, "dur": "9"})) == ("10 != 9", "shots")
    assert rule.check(Facts({"shots": [{"d": "x"}], "dur": "9"})) is None  # the item's own rule refuses it


def test_callbacks_post_the_providers_own_callback_body_with_absolute_urls_under_the_mount() -> None:
    sent: list[dict[str, Any]] = []

    def receive(
        url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int, None]:
        sent.append(payload)
        return 200, None

    hooks = dataclasses.replace(SPEC.hooks, render_callback=lambda job: {"status": "OK", "url": job.base_url})
    hooked = dataclasses.replace(
        SPEC, hooks=hooks, callbacks=CallbackPolicy(field="webhook", doc=SPEC.docs[0])
    )
    client = SimClient([hooked], callback_transport=receive)
    client.sim.set_balance("tiny", KEY, 100)  # type: ignore[arg-type]
    body = {"prompt": "x", "webhook": "https://hooks.example.com/done"}
    assert client.post("/tiny/acme/video/fast", json=body, headers=jwt()).status_code == 200
    client.advance(60)
    assert sent == [{"status": "OK", "url": "http://testserver/tiny"}]
