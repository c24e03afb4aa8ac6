"""A kit a CI can trust: a correct pass-through gateway passes a plain run without spending, runs on one
upstream don't interfere, exit codes say what happened, and a failure's replay script reproduces it."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from klingsim.cli import main
from klingsim.core.simulator import Simulator
from klingsim.providers import by_id
from klingsim_contracts.report import Report, Verdict
from klingsim_contracts.rules import catalogue
from klingsim_contracts.runner import run_gateway_suite
from tests.contracts.gateway import sandwich, serving
from tests.contracts.mutants import _to_500, wrap

SEEDS = ("kling3api", "empiriolabs", "evolink", "prospolabs")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, str, Simulator]]:
    with sandwich() as running:
        yield running


@pytest.mark.parametrize("provider", SEEDS)
def test_a_plain_run_passes_a_pass_through_gateway_and_spends_nothing(
    stack: tuple[str, str, Simulator], provider: str
) -> None:
    gateway, _, sim = stack
    report = run_gateway_suite(provider, f"{gateway}/{provider}", max_examples=5)
    assert report.exit_code == 0, report.text()
    assert report.estimate is not None and report.estimate > 0
    assert report.spent == 0
    account = sim.keys.account_of(provider, report.api_key)
    assert not [j for j in sim.engine.jobs() if j.provider == provider and j.account == account]
    # Every rule is in the table; the ones that spend money say which flag would run them.
    assert len(report.results) == len(catalogue(by_id(provider)))
    costly = [r for r in report.results if "spends money" in r.reason]
    assert costly and all(r.verdict is Verdict.NOT_EXERCISED for r in costly)
    assert all("--budget" in r.reason and "--yes-spend" in r.reason for r in costly)


def test_the_cli_prints_the_estimate_before_spending_and_exits_0(
    stack: tuple[str, str, Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    gateway, _, _ = stack
    target = f"{gateway}/kling3api"
    code = main(["check", "gateway", "--provider", "kling3api", "--target", target, "--max-examples", "5"])
    out, err = capsys.readouterr()
    assert code == 0, out
    estimate = err.index("estimated cost of the full run:")
    assert estimate < err.index("  ok   "), "the estimate comes before any rule runs"
    assert "credits (from kling3api's price table)" in err
    assert "KLING3API-PRICE" in out and "give --budget" in out


def test_a_budget_caps_what_a_plain_run_spends(stack: tuple[str, str, Simulator]) -> None:
    gateway, _, _ = stack
    report = run_gateway_suite("kling3api", f"{gateway}/kling3api", max_examples=3, budget=1000)
    assert report.exit_code == 0, report.text()
    assert 0 < report.spent <= 1000
    assert any("over the --budget of 1000" in r.reason for r in report.results), report.table()
    assert "--budget 1000" in report.rerun()


@pytest.mark.parametrize("provider", SEEDS)
def test_two_runs_back_to_back_on_one_upstream_both_pass(provider: str) -> None:
    with sandwich() as (gateway, upstream, _):
        first, second = (
            run_gateway_suite(provider, f"{gateway}/{provider}", upstream_control=upstream, max_examples=3)
            for _ in range(2)
        )
    for report in (first, second):
        assert report.exit_code == 0, report.text()
        assert report.count(Verdict.PASSED) >= 0.9 * len(report.results), report.table()
    assert first.api_key != second.api_key, "each run has its own fresh key"


def test_two_runs_in_parallel_on_one_upstream_both_pass() -> None:
    reports: list[Report] = []

    def run(provider: str, gateway: str, upstream: str) -> None:
        reports.append(
            run_gateway_suite(provider, f"{gateway}/{provider}", upstream_control=upstream, max_examples=3)
        )

    with sandwich() as (gateway, upstream, _):
        threads = [threading.Thread(target=run, args=("kling3api", gateway, upstream)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert len(reports) == 2
    for report in reports:
        assert report.exit_code == 0, report.text()


def test_run_keys_derive_from_seed_and_run_id() -> None:
    from klingsim_contracts.runner import run_key

    for provider in SEEDS:
        spec = by_id(provider)
        key = run_key(spec, 0, "a")
        assert spec.auth.valid_format(key) and key != spec.auth.example_key
        assert key == run_key(spec, 0, "a") != run_key(spec, 0, "b") != run_key(spec, 1, "b")


# ----------------------------------------------------------------------------- exit codes
def test_usage_mistakes_exit_2_naming_the_valid_values(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["check", "gateway", "--provider", "kling3api", "--target", "http://127.0.0.1:9/kling3api"]
    assert main([*base, "--rule", "KLING3API-NOPE"]) == 2
    assert "unknown rule(s) KLING3API-NOPE; valid: KLING3API-" in capsys.readouterr().err
    assert main([*base, "--budget", "lots"]) == 2
    assert "--budget must be a number >= 0" in capsys.readouterr().err
    assert main([*base, "--budget", "5", "--yes-spend"]) == 2
    assert "not both" in capsys.readouterr().err


def test_an_unreachable_target_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "gateway", "--provider", "evolink", "--target", "http://127.0.0.1:9/evolink"])
    out, _ = capsys.readouterr()
    assert code == 2
    assert "RUN COULD NOT JUDGE: could not reach the target http://127.0.0.1:9/evolink" in out


# ----------------------------------------------------------------------------- reproductions
def test_a_failure_replays_as_a_bash_script_that_reproduces_it(tmp_path: Path) -> None:
    rule = "KLING3API-ERROR-RATE-LIMITED"
    with serving(wrap("kling3api", _to_500(429))) as mutant:
        report = run_gateway_suite(
            "kling3api", f"{mutant}/kling3api", upstream_control=mutant, max_examples=3, rules=[rule]
        )
        assert report.failed_ids() == {rule}, report.text()
        text = report.failure_text(report.result(rule))
        assert f"--upstream-control {mutant}" in text and f"--rule {rule}" in text
        assert "failing request: POST " in text and "/kling3api/api/generate  body: {" in text
        assert "None" not in text
        script = text[text.index("#!/usr/bin/env bash") :]
        lines = [line.removeprefix("    ") for line in script.splitlines()]
        assert "set -euo pipefail" in lines
        assert any("/_klingsim/faults" in line for line in lines), "the upstream setup step is in the replay"
        path = tmp_path / "replay.sh"
        path.write_text("\n".join(lines) + "\n")
        done = subprocess.run(
            ["bash", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"PATH": "/usr/bin:/bin", "KLINGSIM_API_KEY": report.api_key},
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "reproduced: status 500 again" in done.stderr


def test_a_replay_chains_job_ids_in_double_quotes(tmp_path: Path) -> None:
    from klingsim_contracts.report import replay
    from klingsim_contracts.session import Exchange

    created = Exchange(
        "POST",
        "http://gw/api/generate",
        {"Authorization": "Bearer k3a_live_secret123"},
        {"prompt": "it's"},
        None,
        200,
        {},
        {"data": {"task_id": "t1"}},
        "",
        "create",
        "t1",
    )
    polled = Exchange(
        "GET",
        "http://gw/api/status?task_id=t1",
        {"Authorization": "Bearer k3a_live_secret123"},
        None,
        None,
        200,
        {},
        {},
        "",
        "poll",
    )
    script = replay([created, polled], "k3a_live_secret123", "400")
    assert 'JOB1=$(printf %s "$R1" | json_at data task_id)' in script
    assert '"http://gw/api/status?task_id=${JOB1}"' in script
    assert '"Authorization: Bearer ${KLINGSIM_API_KEY}"' in script
    assert '\'{"prompt": "it\'"\'"\'s"}\'' in script
    check = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr


# ----------------------------------------------------------------------------- custom rules
def test_a_registered_rule_set_runs_beside_the_built_ins_even_when_registered_first() -> None:
    program = (
        "from klingsim.providers import by_id\n"
        "from klingsim.spec.doc import inferred\n"
        "from klingsim_contracts.rules import Layer, Rule, catalogue, register\n"
        "@register\n"
        "def mine(spec):\n"
        "    yield Rule('MY-RULE', spec.id, 'mine', inferred('a test'), Layer.PROPERTY, lambda s: None)\n"
        "ids = [r.id for r in catalogue(by_id('kling3api'))]\n"
        "assert 'MY-RULE' in ids and 'KLING3API-PRICE' in ids and len(ids) > 40, ids\n"
        "print('ok', len(ids))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


def test_a_run_that_evaluated_no_rule_exits_2(stack: tuple[str, str, Simulator]) -> None:
    gateway, _, _ = stack
    report = run_gateway_suite(
        "kling3api", f"{gateway}/kling3api", max_examples=1, only=lambda r: r.id.endswith("-LEDGER")
    )
    assert [r.verdict for r in report.results] == [Verdict.NOT_EXERCISED]
    assert report.exit_code == 2 and "no rule was exercised" in report.problems[0]
