"""The gateway kit drives the official Kling API and fal.ai: it passes klingsim and a pass-through gateway,
signs Kling's requests with a secret it registers upstream, prices runs, and replays failures in bash."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from klingsim.cli import main
from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL, by_id
from klingsim.server.app import KlingsimApp
from klingsim_contracts.report import Verdict
from klingsim_contracts.rules import catalogue
from klingsim_contracts.runner import estimate, run_gateway_suite
from klingsim_contracts.session import Session
from klingsim_contracts.targets import AsgiTarget
from tests.contracts.gateway import sandwich, serving
from tests.contracts.mutants import _code_as_text, wrap
from tests.contracts.support import run_in_process

UPSTREAMS = ("kling", "fal")
# What a faithful upstream still leaves unjudged: callbacks need a receiver the gateway can reach, and the
# length of a source or reference video is judged only for inputs the upstream can probe (its own outputs).
UNJUDGED = {
    "KLING-CALLBACK-RETRIES",
    "FAL-CALLBACK-RETRIES",
    "FAL-FAL-AI-KLING-VIDEO-O3-PRO-VIDEO-TO-VIDEO-EDIT-EDIT-SOURCE-LENGTH",
    "KLING-OMNI-VIDEO-KLING-V3-OMNI-OMNI-REFERENCE-VIDEO-LENGTH",
    "KLING-OMNI-VIDEO-KLING-VIDEO-O1-OMNI-REFERENCE-VIDEO-LENGTH",
}


def _app() -> KlingsimApp:
    return KlingsimApp(Simulator(ALL, VirtualClock(), seed=0, secret=b"self-test"))


@pytest.mark.parametrize("provider", UPSTREAMS)
def test_klingsim_passes_the_whole_catalogue_in_process(provider: str) -> None:
    report = run_in_process(_app(), provider, max_examples=2)
    assert report.ok, report.text()
    skipped = {r.rule.id for r in report.results if r.verdict is Verdict.NOT_EXERCISED}
    assert skipped <= UNJUDGED, skipped
    assert len(report.results) == len(catalogue(by_id(provider)))


def test_each_kling_create_path_has_its_own_rules() -> None:
    ids = {r.id for r in catalogue(by_id("kling"))}
    for kind in ("TEXT2VIDEO", "IMAGE2VIDEO", "OMNI-VIDEO"):
        assert any(i.startswith(f"KLING-{kind}-") for i in ids), kind
    assert "KLING-IMAGE2VIDEO-KLING-V3-IMAGE-REQUIRED" in ids
    assert "KLING-OMNI-VIDEO-KLING-V3-OMNI-OMNI-SOUND-OFF-WITH-VIDEO" in ids
    # kling-video-o1 has no sound to turn on: the rule is shown on the model that has
    assert "KLING-OMNI-VIDEO-KLING-VIDEO-O1-OMNI-SOUND-OFF-WITH-VIDEO" not in ids


@pytest.mark.parametrize("provider", UPSTREAMS)
def test_a_pass_through_gateway_exits_0(provider: str, capsys: pytest.CaptureFixture[str]) -> None:
    rules = [
        f"{provider.upper()}-{suffix}"
        for suffix in (
            "AUTH-MISSING-KEY",
            "AUTH-INVALID-KEY",
            "ERROR-ENVELOPE",
            "PRICE",
            "LEDGER",
            "URL-EXPIRY",
        )
    ]
    rules += ["KLING-QUERY-BY-EXTERNAL-TASK-ID", "KLING-ERROR-1102"] if provider == "kling" else []
    rules += ["FAL-JOB-URLS", "FAL-CANCEL", "FAL-RESULT", "FAL-PENDING-STATUS"] if provider == "fal" else []
    with sandwich() as (gateway, upstream, sim):
        argv = ["check", "gateway", "--provider", provider, "--target", f"{gateway}/{provider}"]
        argv += ["--upstream-control", upstream, "--max-examples", "2"]
        for rule in rules:
            argv += ["--rule", rule]
        code = main(argv)
        out, _ = capsys.readouterr()
        assert code == 0, out
        assert f"{provider}: {len(rules)} passed, 0 failed, 0 not exercised" in out
        if provider == "kling":  # the kit registered its key's secret: every signature was verified
            keys = [k for k in sim.keys.keys("kling") if "kit" in k]
            assert keys and all(sim.keys.secret_of("kling", k) for k in keys)


def test_kling_requests_are_signed_with_the_registered_secret() -> None:
    app = _app()
    report = run_in_process(app, "kling", rules=["KLING-AUTH-MISSING-KEY", "KLING-ERROR-1203"])
    assert report.ok, report.text()
    assert report.secret_key
    assert app.sim.keys.secret_of("kling", report.api_key) == report.secret_key


def test_a_secret_key_is_refused_for_providers_whose_keys_do_not_sign(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["check", "gateway", "--provider", "fal", "--target", "http://127.0.0.1:9", "--secret-key", "s"]
    assert main(argv) == 2
    assert "--secret-key is for kling" in capsys.readouterr().err


@pytest.mark.parametrize("provider", UPSTREAMS)
def test_a_run_is_priced_before_it_spends(provider: str) -> None:
    """Without an upstream control plane every create may be real money: the dry run prices the rules that
    create jobs, in the provider's unit (Kling's resource-pack units, fal's USD)."""
    app = _app()
    spec = by_id(provider)
    target = AsgiTarget(app, f"http://testserver/{provider}")
    try:
        session = Session(spec, target, spec.auth.example_key, max_examples=2)
        chosen = [
            r
            for r in catalogue(spec)
            if r.id in (f"{provider.upper()}-PRICE", f"{provider.upper()}-ID-SHAPE")
        ]
        costs = estimate(session, chosen)
    finally:
        target.close()
    assert all(cost > 0 for cost in costs.values()), costs
    assert set(costs) == {r.id for r in chosen}


def test_a_kling_failure_replays_with_a_freshly_minted_jwt(tmp_path: Path) -> None:
    rule = "KLING-ERROR-1203"
    with serving(wrap("kling", _code_as_text)) as mutant:
        report = run_gateway_suite(
            "kling", f"{mutant}/kling", upstream_control=mutant, max_examples=2, rules=[rule]
        )
        assert report.failed_ids() == {rule}, report.text()
        text = report.failure_text(report.result(rule))
        script = text[text.index("#!/usr/bin/env bash") :]
        lines = [line.removeprefix("    ") for line in script.splitlines()]
        assert any(line.startswith("KLINGSIM_JWT=$(python3 -c") for line in lines)
        assert '"authorization: Bearer ${KLINGSIM_JWT}"' in script
        path = tmp_path / "replay.sh"
        path.write_text("\n".join(lines) + "\n")
        env = {
            "PATH": "/usr/bin:/bin",
            "KLINGSIM_API_KEY": report.api_key,
            "KLINGSIM_SECRET_KEY": report.secret_key,
        }
        done = subprocess.run(
            ["bash", str(path)], capture_output=True, text=True, timeout=60, check=False, env=env
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "reproduced: status 404 again" in done.stderr
