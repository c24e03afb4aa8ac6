"""The dev server's extras: offline docs pages, CORS, reset to the starting state, job and account lists."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from klingsim.core import hints, restart
from klingsim.core.http import Response
from klingsim.core.simulator import Simulator
from klingsim.server.requestlog import RequestLog
from klingsim.server.run import ServeOptions, build, with_cors
from tests.support import SimClient, bearer

K3A = bearer("k3a_live_0123456789abcdef")
T2V = {"type": "std-text-to-video", "prompt": "x"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client() -> SimClient:
    return SimClient()


def _urls(page: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']|"url":\s*"([^"]+)\"""", page)


@pytest.mark.parametrize(
    ("path", "spec_url"),
    [("/_klingsim/docs", "/_klingsim/openapi.json"), ("/evolink/docs", "/evolink/openapi.json")],
)
def test_docs_pages_reference_only_this_server(client: SimClient, path: str, spec_url: str) -> None:
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = [u for pair in _urls(page.text) for u in pair if u]
    assert spec_url in urls and len(urls) >= 3
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        if url.endswith((".js", ".css")):
            assert client.get(url).status_code == 200, url
    assert "http://" not in page.text and "https://" not in page.text
    assert '"validatorUrl": null' in page.text
    assert client.get(spec_url).status_code == 200


def test_cors_answers_a_browser_preflight_and_exposes_the_hint() -> None:
    app = with_cors(build(ServeOptions(clock="virtual")), "http://localhost:3000")

    async def go() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            origin = {"Origin": "http://localhost:3000"}
            preflight = await http.options(
                "/kling3api/api/generate",
                headers={**origin, "Access-Control-Request-Method": "POST"},
            )
            answer = await http.post("/kling3api/api/generate", headers={**K3A, **origin}, json=T2V)
            return preflight, answer

    preflight, answer = asyncio.run(go())
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "x-klingsim-hint" in answer.headers["access-control-expose-headers"]


def test_reset_restores_ids_and_clock_of_the_start(client: SimClient) -> None:
    first = client.post("/kling3api/api/generate", headers=K3A, json=T2V).json()["data"]["task_id"]
    client.post("/_klingsim/clock/advance", json={"seconds": 600})
    reset = client.post("/_klingsim/reset")
    assert reset.json() == {"status": "reset", "now": "2026-01-01T00:00:00Z"}
    again = client.post("/kling3api/api/generate", headers=K3A, json=T2V).json()["data"]["task_id"]
    assert again == first
    assert client.get("/_klingsim/clock").json()["now"] == "2026-01-01T00:00:00Z"


def test_reset_can_keep_the_clock(client: SimClient) -> None:
    client.post("/_klingsim/clock/advance", json={"seconds": 90})
    reset = client.post("/_klingsim/reset", json={"keep_clock": True})
    assert reset.json()["now"] == "2026-01-01T00:01:30Z"
    assert client.post("/_klingsim/reset", json={"keep_clok": True}).status_code == 400


def test_reset_brings_back_the_scenario_accounts_and_faults() -> None:
    def state(sim: Simulator) -> tuple[list[object], Decimal]:
        faults = [(f["provider"], f["endpoint"], f.get("error")) for f in sim.faults.list()]
        return faults, sim.ledger.balance("evolink", "sk-evo-ci0123456789")

    faults = ROOT / "fixtures/scenarios/flaky-upstream.toml"
    accounts = ROOT / "fixtures/scenarios/ci-virtual.toml"
    for path in (faults, accounts):
        sim = build(ServeOptions(scenario=str(path))).sim
        started = state(sim)
        sim.faults.clear()
        sim.set_balance("evolink", "sk-evo-ci0123456789", Decimal(1))
        sim.set_balance("kling3api", "k3a_live_0123456789abcdef", Decimal(1))
        restart.restart(sim)
        assert state(sim) == started
        assert sim.keys.account_of("kling3api", "k3a_live_0123456789abcdef") is None
    assert state(build(ServeOptions(scenario=str(accounts))).sim)[1] == 50


def test_jobs_and_accounts_are_listed(client: SimClient) -> None:
    first = client.post("/kling3api/api/generate", headers=K3A, json=T2V).json()["data"]["task_id"]
    second = client.post("/kling3api/api/generate", headers=K3A, json=T2V).json()["data"]["task_id"]
    jobs = client.get("/_klingsim/jobs").json()["jobs"]
    assert [j["id"] for j in jobs] == [second, first]
    assert jobs[0]["status"] == "IN_PROGRESS" and jobs[0]["provider"] == "kling3api"
    assert client.get("/_klingsim/jobs", params={"provider": "evolink"}).json() == {"jobs": []}
    accounts = client.get("/_klingsim/accounts").json()["accounts"]
    assert [(a["provider"], a["api_key"]) for a in accounts] == [("kling3api", "k3a_live_0123456789abcdef")]
    assert len(accounts[0]["entries"]) == accounts[0]["entry_count"] == 3  # opening balance, two debits
    last = client.get("/_klingsim/accounts", params={"entries": 1}).json()["accounts"][0]
    assert last["entry_count"] == 3 and [e["job_id"] for e in last["entries"]] == [second]


def test_the_dashboard_is_served_from_the_package(client: SimClient) -> None:
    assert client.get("/_klingsim/ui").status_code in (307, 308)
    page = client.get("/_klingsim/ui/")
    assert page.status_code == 200 and "<title>klingsim" in page.text
    assert "http://" not in page.text and "https://" not in page.text


def test_request_log_lines_stay_one_line_whatever_the_path() -> None:
    out = io.StringIO()
    log = RequestLog(SimClient().sim, "text", out)
    answer = Response(404, {"error": "x"}, ((hints.HEADER, 'unknown path GET "/a\\nb"'),))
    log("evolink", "GET", "/evolink/a\nforged 200 line\u00e9", 404, answer, time.perf_counter())
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].isascii()
    assert "/evolink/a\\nforged 200 line\\xe9 404 - " in lines[0]
    assert lines[0].endswith('hint: unknown path GET "/a\\nb"')


class _Writes:
    """A stream that counts its writes, as an unbuffered stdout (PYTHONUNBUFFERED=1) makes each one a system
    call."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        pass


def test_request_log_writes_the_lines_of_a_turn_of_the_event_loop_at_once() -> None:
    stream = _Writes()
    log = RequestLog(SimClient().sim, "text", stream)  # type: ignore[arg-type]
    answer = Response(200, {"id": "job-1"})

    async def three_requests_in_one_turn() -> int:
        for _ in range(3):
            log("evolink", "GET", "/evolink/v1/tasks/job-1", 200, answer, time.perf_counter())
        written_before_the_turn_ends = len(stream.writes)
        await asyncio.sleep(0)
        return written_before_the_turn_ends

    assert asyncio.run(three_requests_in_one_turn()) == 0
    assert len(stream.writes) == 1 and stream.writes[0].count("\n") == 3
    assert all(" job-1 " in line for line in stream.writes[0].splitlines())
    log("evolink", "GET", "/evolink/v1/tasks/job-1", 200, answer, time.perf_counter())  # no loop: at once
    assert len(stream.writes) == 2 and stream.writes[1].count("\n") == 1


def test_request_log_json_lines_parse_and_name_download_jobs() -> None:
    out = io.StringIO()
    sim = SimClient().sim
    log = RequestLog(sim, "json", out)
    path = "/_klingsim/files/kling3api/n75abc/0.mp4"
    log(None, "GET", path, 200, Response(200, b"video"), time.perf_counter())
    record = json.loads(out.getvalue())
    assert record["provider"] == "kling3api" and record["job_id"] == "n75abc" and "hint" not in record
    with pytest.raises(ValueError, match="choose one of: text, json"):
        RequestLog(sim, "yaml")
