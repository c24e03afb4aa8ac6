"""Scenario files: every example in fixtures/scenarios loads and does what it says; bad files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from klingsim.core.ratelimit import Limit
from klingsim.core.scenario import ScenarioError, load_scenario
from klingsim.server.run import ServeOptions, build
from tests.support import SimClient, bearer

SCENARIOS = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
BODY = {"type": "pro-text-to-video", "prompt": "mountains", "duration": 5}


def test_every_example_scenario_builds_a_server() -> None:
    files = sorted(SCENARIOS.glob("*.toml"))
    assert len(files) >= 3
    for path in files:
        app = build(ServeOptions(scenario=str(path)))
        assert app.sim.runtimes


def scenario_client(name: str) -> SimClient:
    scenario = load_scenario(SCENARIOS / name)
    client = SimClient(
        seed=int(scenario.options.get("seed", 0)),
        strict_keys=bool(scenario.options.get("strict_keys", False)),
        default_rate_limit=scenario.default_rate_limit,
        rate_limits=scenario.rate_limits,
    )
    scenario.apply(client.sim)
    return client


def test_ci_virtual_preloads_strict_keys_and_shared_balances() -> None:
    app = build(ServeOptions(scenario=str(SCENARIOS / "ci-virtual.toml")))
    assert app.sim.clock.mode == "virtual" and app.sim.keys.strict and app.sim.seed == 7
    client = scenario_client("ci-virtual.toml")
    created = client.post("/kling3api/api/generate", json=BODY, headers=bearer("k3a_ci_team_key_one"))
    assert created.status_code == 200
    account = client.get("/_klingsim/accounts/kling3api/k3a_ci_team_key_two").json()
    assert account["account"] == "team" and account["balance"] == 2000 - 400  # one shared balance
    stranger = client.post("/kling3api/api/generate", json=BODY, headers=bearer("k3a_live_0123456789abcdef"))
    assert stranger.status_code == 401  # strict keys: only preloaded ones
    assert client.get("/_klingsim/accounts/evolink/sk-evo-ci0123456789").json()["balance"] == 50


def test_flaky_upstream_loads_its_faults() -> None:
    client = scenario_client("flaky-upstream.toml")
    key = "k3a_live_0123456789abcdef"
    statuses = [
        client.post("/kling3api/api/generate", json=BODY, headers=bearer(key)).status_code for _ in range(3)
    ]
    assert statuses == [429, 429, 200]
    latencies = [e["latency_ms"] for e in client.get("/_klingsim/requests").json()["requests"]]
    assert all(50 <= ms <= 250 for ms in latencies)
    task_id = client.sim.journal.entries()[-1]["response"]["data"]["task_id"]
    client.advance(3600)
    assert client.get(f"/_klingsim/jobs/kling3api/{task_id}").json()["error"]["code"] == "generation_timeout"


def test_rate_limits_scenario_sets_default_override_and_switch_off() -> None:
    scenario = load_scenario(SCENARIOS / "rate-limits.toml")
    assert scenario.default_rate_limit == Limit(5, 60)
    assert scenario.rate_limits == {"kling3api": Limit(2, 60, "account"), "prospolabs": None}
    client = scenario_client("rate-limits.toml")
    key = "k3a_live_0123456789abcdef"
    codes = [
        client.get(
            "/kling3api/api/status", params={"task_id": "n75000000000000"}, headers=bearer(key)
        ).status_code
        for _ in range(3)
    ]
    assert codes == [404, 404, 429]


def test_command_line_flags_win_over_the_scenario() -> None:
    app = build(ServeOptions(scenario=str(SCENARIOS / "ci-virtual.toml"), seed=3))
    assert app.sim.seed == 3 and app.sim.clock.mode == "virtual"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[simulatr]\nclock = 'virtual'\n", "unknown tables"),
        ("[simulator]\nclok = 'virtual'\n", "no 'clok'"),
        ("[simulator]\nclock = 'sometimes'\n", "clock must be"),
        ("[simulator]\nseed = 'seven'\n", "wrong type"),
        ("[[accounts]]\nprovider = 'kling3api'\n", "needs provider and key"),
        ("[[accounts]]\nprovider = 'kling3api'\nkey = 'k'\nbalance = -1\n", "negative"),
        ("[[faults]]\nprovider = 'kling3api'\ncount = 2\n", "a fault needs"),
        ("[[faults]]\nprovider = 'kling3api'\nerror = 'X'\nsurprise = 1\n", "unknown fault fields"),
        ("[rate_limits]\ndefault = { requests = 5 }\n", "rate_limits"),
        ("not toml at all = = =", "scenario"),
    ],
)
def test_bad_scenarios_are_refused_with_the_reason(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=complaint if complaint != "scenario" else "scenario.toml"):
        load_scenario(path)


def test_unknown_providers_and_error_codes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[[faults]]\nprovider = 'nobody'\nerror = 'X'\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="unknown providers"):
        build(ServeOptions(scenario=str(path)))
    path.write_text("[[faults]]\nprovider = 'kling3api'\nerror = 'NOT_A_CODE'\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="no error"):
        build(ServeOptions(scenario=str(path)))
