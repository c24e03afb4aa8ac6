"""`klingsim check gateway`: progress on stderr, the summary table, JUnit, exit 1 on any failure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from klingsim.cli import main
from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL, by_id
from klingsim.server.app import KlingsimApp
from klingsim.server.run import ThreadedServer
from klingsim_contracts.rules import catalogue
from tests.contracts.mutants import _param, served


def test_a_faithful_gateway_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadedServer(KlingsimApp(Simulator(ALL, VirtualClock()))) as server:
        code = main(
            [
                "check",
                "gateway",
                "--provider",
                "kling3api",
                "--target",
                f"{server.url}/kling3api",
                "--upstream-control",
                server.url,
                "--max-examples",
                "3",
            ]
        )
    out, err = capsys.readouterr()
    assert code == 0, out
    assert "ok   KLING3API-DURATION-RANGE" in err
    rules = len(catalogue(by_id("kling3api")))
    assert f"kling3api: {rules} passed, 0 failed, 0 not exercised" in out


def test_a_departing_gateway_exits_1_with_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "gateway.xml"
    app = served(_param(by_id("kling3api"), "prompt", max_length=2001))
    with ThreadedServer(app) as server:  # type: ignore[arg-type]
        code = main(
            [
                "check",
                "gateway",
                "--provider",
                "kling3api",
                "--target",
                f"{server.url}/kling3api",
                "--max-examples",
                "3",
                "--seed",
                "7",
                "--junit",
                str(junit),
            ]
        )
    out, err = capsys.readouterr()
    assert code == 1
    assert "FAIL KLING3API-PROMPT-LENGTH" in err
    assert "--seed 7" in out and "not exercised" in out
    failed = [c for c in ET.parse(junit).getroot().iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["KLING3API-PROMPT-LENGTH"]


def test_an_unknown_provider_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "gateway", "--provider", "nope", "--target", "http://127.0.0.1:9"]) == 2
