"""Every reproduction of the hostile-input report answers with the provider's error (or works), never a
500, and leaves nothing behind that answers 500 later."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from klingsim.core import edge
from klingsim.core.auth import credential_headers
from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.core.store import SqliteStore, StoreLocked
from klingsim.providers import ALL, kling3api
from klingsim.server.app import KlingsimApp
from klingsim.spec import Action, ErrorRole, ProviderSpec
from tests.support import SimClient, bearer
from tests.unit.provider_cases import BODIES, create, status

KEY = "k3a_live_0123456789abcdef"
K3 = "/kling3api/api/generate"


def raw_post(client: SimClient, path: str, body: bytes, key: str | None = KEY) -> httpx.Response:
    headers = {"content-type": "application/json", **(bearer(key) if key else {})}
    return client.post(path, content=body, headers=headers)


def everything_answers(client: SimClient) -> None:
    """The journal, every job's timeline and status, and every account still answer without a 500."""
    assert client.get("/_klingsim/requests").status_code == 200
    for job in client.sim.engine.jobs():
        assert client.get(f"/_klingsim/jobs/{job.provider}/{job.id}").status_code == 200
        spec = client.sim.runtimes[job.provider].spec
        keys = client.sim.keys.keys(job.provider)
        owner = next(k for k in keys if client.sim.keys.account_of(job.provider, k) == job.account)
        assert status(client, spec, owner, job.id).status_code == 200
    for provider in client.sim.runtimes:
        for key in client.sim.keys.keys(provider):
            assert client.get(f"/_klingsim/accounts/{provider}/{key}").status_code == 200


PROVIDERS = [pytest.param(s, id=s.id) for s in ALL]


def create_path(spec: ProviderSpec) -> str:
    return f"/{spec.id}{spec.endpoint(Action.CREATE).path}"


@pytest.mark.parametrize("spec", PROVIDERS)
def test_a_lone_surrogate_in_the_prompt_is_the_providers_validation_error_and_not_charged(
    spec: ProviderSpec,
) -> None:
    client = SimClient([spec])
    key = spec.auth.example_key
    create(client, spec, key)  # a key with a balance and one job
    before = client.sim.ledger.balance(spec.id, client.sim.keys.account_of(spec.id, key) or key)
    body = json.dumps({**BODIES[spec.id], "prompt": "a\ud800b"}).encode()
    headers = {"content-type": "application/json", **credential_headers(spec.auth, key)}
    answer = client.post(create_path(spec), content=body, headers=headers)
    validation = spec.role(ErrorRole.VALIDATION)
    assert answer.status_code == validation.status, answer.text
    assert client.sim.ledger.balance(spec.id, client.sim.keys.account_of(spec.id, key) or key) == before
    client.advance(3600)
    everything_answers(client)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"prompt": "a\\ud800b"}', id="surrogate"),
        pytest.param(b"[" * 300 + b"]" * 300, id="300-deep"),
        pytest.param(b'{"x": ' + b"[" * 300 + b"]" * 300 + b"}", id="300-deep-inside"),
        pytest.param(b'{"x": NaN}', id="nan"),
        pytest.param(b'{"x": 1e999}', id="overflow"),
        pytest.param(b'{"\\udfff": 1}', id="surrogate-key"),
        pytest.param('{"x": "\ud800"}'.encode("utf-16", "surrogatepass"), id="utf16-surrogate"),
    ],
)
@pytest.mark.parametrize("key", [KEY, None], ids=["authenticated", "refused-401"])
def test_poison_bodies_get_a_4xx_and_the_journal_still_answers(body: bytes, key: str | None) -> None:
    client = SimClient([kling3api.SPEC])
    answer = raw_post(client, K3, body, key)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["code"] if "code" in answer.json() else answer.json()
    journal = client.get("/_klingsim/requests")
    assert journal.status_code == 200
    assert journal.json()["requests"][-1]["status"] == answer.status_code


def test_deep_nesting_is_the_providers_malformed_body_400() -> None:
    client = SimClient([kling3api.SPEC])
    answer = raw_post(client, K3, b'{"type": "pro-text-to-video", "x": ' + b"[" * 300 + b"]" * 300 + b"}")
    assert answer.status_code == kling3api.SPEC.role(ErrorRole.MALFORMED_BODY).status == 400
    assert "nesting" in answer.text


@pytest.mark.parametrize("extra", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_in_an_unknown_field_are_refused_and_jobs_keep_answering(extra: str) -> None:
    client = SimClient([kling3api.SPEC])
    create(client, kling3api.SPEC, KEY)
    body = json.dumps(BODIES["kling3api"])[:-1] + f', "unknown": {extra}}}'
    answer = raw_post(client, K3, body.encode())
    assert answer.status_code == 400, answer.text
    everything_answers(client)


def finished_url(client: SimClient) -> str:
    _, job_id = create(client, kling3api.SPEC, KEY)
    client.advance(3600)
    url: str = status(client, kling3api.SPEC, KEY, job_id).json()["data"]["response"][0]
    return url


@pytest.mark.parametrize("expires", ["²", "٣", "9" * 5000, "1" * 13, "-1", "1e3", ""])
def test_a_mangled_expires_is_a_403_not_a_500(expires: str) -> None:
    client = SimClient([kling3api.SPEC])
    url = httpx.URL(finished_url(client))
    mangled = url.copy_set_param("expires", expires)
    answer = client.get(mangled.raw_path.decode())
    assert answer.status_code == 403


@pytest.mark.parametrize("index", ["9" * 5000, "٣"])
def test_a_mangled_file_index_is_a_404_not_a_500(index: str) -> None:
    client = SimClient([kling3api.SPEC])
    url = httpx.URL(finished_url(client))
    path = url.path.rsplit("/", 1)[0] + f"/{index}.mp4"
    assert client.get(path, params=dict(url.params)).status_code == 404


def test_a_mangled_expires_in_an_input_url_is_the_providers_validation_error() -> None:
    client = SimClient([kling3api.SPEC])
    url = httpx.URL(finished_url(client)).copy_set_param("expires", "9" * 5000)
    body = {"type": "o3-std-video-edit", "prompt": "snow", "video": str(url)}
    answer = client.post(K3, json=body, headers=bearer(KEY))
    assert answer.status_code == 400 and "forged or has expired" in answer.text


@pytest.mark.parametrize("seconds", [3e11, 1e308, "Infinity", "NaN", -1])
def test_a_clock_advance_out_of_range_is_a_400_and_later_requests_work(seconds: object) -> None:
    client = SimClient([kling3api.SPEC])
    body = f'{{"seconds": {seconds}}}'.encode()
    answer = client.post(
        "/_klingsim/clock/advance", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert client.sim.clock.now() == 1_767_225_600.0
    created, _ = create(client, kling3api.SPEC, KEY)
    assert created.status_code == 200
    assert client.post("/_klingsim/reset").status_code == 200
    assert client.get("/_klingsim/clock").status_code == 200


def test_the_clock_may_go_up_to_the_year_9000_and_everything_still_answers() -> None:
    client = SimClient([kling3api.SPEC])
    create(client, kling3api.SPEC, KEY)
    room = edge.MAX_TIME - client.sim.clock.now()
    assert client.post("/_klingsim/clock/advance", json={"seconds": room}).status_code == 200
    assert client.post("/_klingsim/clock/advance", json={"seconds": 1}).status_code == 400
    created, _ = create(client, kling3api.SPEC, KEY)
    assert created.status_code == 200
    everything_answers(client)


def test_a_saved_clock_past_the_range_does_not_stop_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    store = SqliteStore(db)
    store.save_clock(3e11 + 1_767_225_600)
    store.close()
    sim = Simulator([kling3api.SPEC], VirtualClock(), store=SqliteStore(db))
    assert sim.clock.now() == 1_767_225_600.0
    sim.store.close()


@pytest.mark.parametrize(
    "balance", ['"1e999999"', "1e999999", '"Infinity"', '"NaN"', "-1", '"1e16"', '"1e-13"']
)
def test_a_balance_out_of_range_is_a_400_and_the_account_keeps_answering(balance: str) -> None:
    client = SimClient([kling3api.SPEC])
    path = f"/_klingsim/accounts/kling3api/{KEY}"
    assert client.request("PUT", path, json={"balance": 5000}).status_code == 200
    answer = client.request("PUT", path, content=f'{{"balance": {balance}}}'.encode())
    assert answer.status_code == 400, answer.text
    account = client.get(path)
    assert account.status_code == 200 and account.json()["balance"] == 5000
    created, _ = create(client, kling3api.SPEC, KEY)
    assert created.status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_klingsim/faults", {"provider": "kling3api", "error": "RATE_LIMITED", "message": "a\ud800"}),
        ("/_klingsim/faults", {"provider": "kling3api", "latency_ms": 1e999}),
        ("/_klingsim/accounts/kling3api/" + KEY, {"balance": 5, "account": "team\udfff"}),
    ],
)
def test_the_control_plane_refuses_values_it_could_not_show_again(path: str, body: dict[str, object]) -> None:
    client = SimClient([kling3api.SPEC])
    method = "PUT" if "accounts" in path else "POST"
    raw = json.dumps(body).encode()
    answer = client.request(method, path, content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert client.get("/_klingsim/faults").status_code == 200
    created, _ = create(client, kling3api.SPEC, KEY)
    assert created.status_code == 200


def test_a_forced_failure_message_with_a_lone_surrogate_is_refused() -> None:
    client = SimClient([kling3api.SPEC])
    _, job_id = create(client, kling3api.SPEC, KEY)
    raw = json.dumps({"status": "failed", "message": "x\ud800"}).encode()
    answer = client.post(f"/_klingsim/jobs/kling3api/{job_id}/outcome", content=raw)
    assert answer.status_code == 400
    everything_answers(client)


def test_control_plane_bodies_over_1_mib_are_a_413() -> None:
    client = SimClient([kling3api.SPEC])
    answer = client.post("/_klingsim/faults", content=b'{"message": "' + b"x" * (1 << 20) + b'"}')
    assert answer.status_code == 413


# ----------------------------------------------------------------- memory: journal and keys
def test_the_journal_keeps_a_bounded_excerpt_of_large_and_refused_bodies() -> None:
    client = SimClient([kling3api.SPEC])
    junk = b"[" + b"{}," * 349_000 + b"{}]"  # ~1 MiB of empty objects
    for key in (None, KEY):
        assert raw_post(client, K3, junk, key).status_code < 500
    entries = client.get("/_klingsim/requests").json()["requests"]
    for entry in entries:
        assert entry["body"] is None and len(entry["body_text"]) <= 2048
        assert entry["body_truncated"] is True and entry["body_bytes"] == len(junk)
    assert client.sim.journal.bytes < 20_000


def test_a_mid_sized_json_body_is_kept_as_a_summary_within_the_entry_budget() -> None:
    client = SimClient([kling3api.SPEC])
    body = {**BODIES["kling3api"], "image": "A" * 40_000, "tags": list(range(5000))}
    client.post(K3, json=body, headers=bearer(KEY))
    entry = client.get("/_klingsim/requests").json()["requests"][-1]
    assert entry["body"]["type"] == "pro-text-to-video" and entry["body_truncated"] is True
    assert entry["body"]["image"].endswith("…[40000 chars]")
    assert len(json.dumps(entry["body"])) < 12_000


def test_the_journal_drops_oldest_entries_past_its_byte_budget() -> None:
    client = SimClient([kling3api.SPEC])
    client.sim.journal._max_bytes = 50_000
    for _ in range(100):
        raw_post(client, K3, b'{"x": "' + b"y" * 4000 + b'"}', None)
    entries = client.sim.journal.entries()
    assert client.sim.journal.bytes <= 50_000 and 5 < len(entries) < 100
    assert entries[-1]["seq"] == 100


@pytest.mark.parametrize("spec", PROVIDERS)
def test_keys_provisioned_on_first_use_are_capped_with_the_providers_401(spec: ProviderSpec) -> None:
    client = SimClient([spec], max_auto_keys=3)
    key = spec.auth.example_key
    keys = [key[:-4] + f"{n:04d}" for n in range(4)]
    answers = [create(client, spec, k)[0] for k in keys]
    accepted = answers[0].status_code
    assert accepted < 300 and [a.status_code for a in answers[:3]] == [accepted] * 3
    invalid = spec.role(ErrorRole.INVALID_KEY)
    assert answers[3].status_code == invalid.status and "cap" in answers[3].text
    assert create(client, spec, keys[0])[0].status_code == answers[0].status_code  # known keys still work
    put = client.request("PUT", f"/_klingsim/accounts/{spec.id}/{keys[3]}", json={"balance": 9})
    assert put.status_code == 200  # the control plane may still add keys
    assert client.post("/_klingsim/reset").status_code == 200
    assert create(client, spec, keys[3])[0].status_code == answers[0].status_code


# ----------------------------------------------------------------- persistence: one owner, kept secret
def test_a_second_store_on_one_database_is_refused_naming_file_and_holder(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = SqliteStore(db)
    with pytest.raises(StoreLocked) as refused:
        SqliteStore(db)
    assert str(db) in str(refused.value) and f"pid {os.getpid()}" in str(refused.value)
    first.close()
    SqliteStore(db).close()  # free again once the holder closed it


def test_output_urls_survive_a_restart_on_the_same_database(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    clock = VirtualClock()
    sim = Simulator([kling3api.SPEC], clock, store=SqliteStore(db))
    client = SimClient([kling3api.SPEC])
    client.sim, client.app, client.clock = sim, KlingsimApp(sim), clock
    url = finished_url(client)
    sim.store.close()
    again = Simulator([kling3api.SPEC], VirtualClock(), store=SqliteStore(db))
    client.sim, client.app = again, KlingsimApp(again)
    answer = client.get(url, headers={"range": "bytes=0-15"})
    assert answer.status_code == 206 and answer.content[4:8] == b"ftyp"
    again.store.close()
