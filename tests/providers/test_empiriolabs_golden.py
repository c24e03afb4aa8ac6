"""EmpirioLabs against every example of its pages (seeds 000 and 004), from fixtures/empiriolabs/."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.providers.empiriolabs import SPEC
from klingsim.server.app import KlingsimApp
from klingsim.server.run import ThreadedServer
from klingsim.spec import Action, ParamType
from tests.support import SimClient, bearer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "empiriolabs"
SEEDS = ROOT / "fixtures" / "seeds"  # the provider pages, copied into the project
KEY = "sk-empiriolabs-golden0123456789"
H = bearer(KEY)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def balance(client: SimClient) -> Decimal:
    return client.sim.ledger.balance("empiriolabs", KEY)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_every_fixture_quotes_its_seed_page_verbatim(name: str) -> None:
    fixture = load(name)
    page = (SEEDS / fixture["source"]["seed"]).read_text()
    quotes = [fixture["source"]["quote"]]
    quotes += [row["quote"] for row in fixture.get("rows", []) + fixture.get("params", [])]
    for quote in quotes:
        for line in quote.splitlines():
            assert line in page, f"{name}: {line!r} is not on {fixture['source']['seed']}"


@pytest.mark.parametrize("name", ["o3_curl_submit.json", "turbo_curl_submit.json"])
def test_curl_submit_examples_return_a_job_id_and_cost_what_the_table_says(name: str) -> None:
    example = load(name)
    request, expect = example["request"], example["expect"]
    client = SimClient([SPEC])
    before = balance(client) if client.sim.ledger.exists("empiriolabs", KEY) else None
    response = client.post("/empiriolabs" + request["path"], headers=H, json=request["body"])
    assert response.status_code == expect["status"]
    body = response.json()
    for field in expect["fields"]:
        assert body[field]
    assert body["status"] == expect["status_word"]
    assert before is None  # the key was provisioned by its first request
    client.advance(3600)
    job = client.get(f"/empiriolabs/v1/jobs/{body['job_id']}", headers=H).json()
    assert job["status"] == expect["final_status"]
    assert Decimal(str(job["result"]["usage"]["cost"]["amount"])) == Decimal(expect["cost_usd"])
    assert balance(client) == Decimal(SPEC.setting_values()["default_balance"]) - Decimal(expect["cost_usd"])


@pytest.mark.parametrize("name", ["o3_curl_poll.json", "turbo_curl_poll.json"])
def test_curl_poll_examples_answer_the_job_object(name: str) -> None:
    example = load(name)
    expect = example["expect"]
    submit = load(example["submit"])["request"]
    client = SimClient([SPEC])
    job_id = client.post("/empiriolabs" + submit["path"], headers=H, json=submit["body"]).json()["job_id"]
    path = "/empiriolabs" + example["request"]["path"].replace("JOB_ID", job_id)
    pending = client.get(path, headers=H)
    assert pending.status_code == expect["status"]
    assert list(pending.json()) == expect["fields"]
    assert pending.json()["status"] not in expect["terminal"]
    client.advance(3600)
    done = client.get(path, headers=H).json()
    assert list(done) == expect["fields"]
    assert done["status"] in expect["terminal"]
    (item,) = done["result"]["data"]
    assert list(item) == expect["result_item_fields"]
    assert item["content_type"] == "video/mp4"
    assert client.get(item["url"].removeprefix("http://testserver")).status_code == 200


def test_turbo_python_code_differs_from_its_page_only_by_indentation() -> None:
    example = load("turbo_python.json")
    quote: str = example["source"]["quote"]
    start, end = quote.index("import requests"), quote.index("time.sleep(5)") + len("time.sleep(5)")
    assert [line.strip() for line in example["code"].splitlines()] == quote[start:end].splitlines()


def test_o3_python_code_is_the_page_text() -> None:
    example = load("o3_python.json")
    assert example["code"] == example["source"]["quote"] + "\n"


@pytest.mark.parametrize("name", ["o3_python.json", "turbo_python.json"])
def test_python_examples_run_to_completed_against_the_simulator(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's code, unchanged but for the base URL, over HTTP; `time.sleep` moves the virtual clock."""
    example = load(name)
    clock = VirtualClock()
    sim = Simulator([SPEC], clock, seed=3)
    sleeps: list[float] = []

    def virtual_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        assert len(sleeps) < 500, "the example never reached a terminal status"
        sim.advance(seconds)

    with ThreadedServer(KlingsimApp(sim, default_provider="empiriolabs")) as server:
        code = example["code"].replace(example["base_url"], server.url)
        assert code.count(server.url) == 2
        monkeypatch.setattr(time, "sleep", virtual_sleep)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, name, "exec"), {"__name__": "__example__"})
    printed = ast.literal_eval(out.getvalue().strip())
    assert printed["status"] == example["expect"]["printed_status"]
    assert sleeps and set(sleeps) == {5}
    (job,) = sim.engine.jobs()
    assert {k: job.request[k] for k in ("model", "prompt")} == example["expect"]["requests"][0]
    assert printed["result"]["data"][0]["url"].startswith(server.url)


@pytest.mark.parametrize("name", ["o3_parameters.json", "turbo_parameters.json"])
def test_parameter_tables_match_the_spec(name: str) -> None:
    table = load(name)
    body = SPEC.endpoint(Action.CREATE).body
    assert body is not None
    variant = body.variant(table["model"])
    assert variant is not None
    for row in table["params"]:
        param = variant.param(row["name"])
        assert param is not None, row["name"]
        documented = {
            "enum": ParamType.STRING,
            "string": ParamType.STRING,
            "number": ParamType.NUMBER,
            "boolean": ParamType.BOOLEAN,
        }[row["type"]]
        assert param.type is documented
        if row["default"] is not None:
            assert param.default == row["default"]
        if row["type"] == "enum":
            assert list(param.enum or ()) == row["range"]
        elif row["range"] is not None:
            assert [param.minimum, param.maximum] == row["range"]


@pytest.mark.parametrize("name", ["o3_parameters.json", "turbo_parameters.json"])
def test_documented_defaults_apply_when_fields_are_omitted(name: str) -> None:
    table = load(name)
    client = SimClient([SPEC])
    body = {"model": table["model"], "prompt": "A lighthouse at dusk"}
    job_id = client.post("/empiriolabs/v1/videos/generations", headers=H, json=body).json()["job_id"]
    stored = client.sim.engine.get("empiriolabs", job_id)
    assert stored is not None
    for row in table["params"]:
        if row["default"] is not None:
            assert stored.request[row["name"]] == row["default"], row["name"]
