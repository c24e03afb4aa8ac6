"""Every CLI mistake gets a message naming the valid values or the fix (one test per message)."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import pytest

from klingsim.cli import CLIENT_SCENARIOS, build_parser, main
from klingsim.providers import ALL
from klingsim_contracts.client.scenarios import SCENARIOS


def _serve_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["serve", *args]) == 2
    return capsys.readouterr().err


def test_unknown_provider_lists_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    err = _serve_error(capsys, "--provider", "foo", "--port", "0")
    assert "unknown provider 'foo'" in err
    for spec in ALL:
        assert spec.id in err


def test_port_in_use_names_the_port_and_suggests_another(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = _serve_error(capsys, "--port", str(port))
    assert f"port {port} on 127.0.0.1 is already in use" in err and "--port" in err


def test_bad_db_path_names_the_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / "state.db"
    err = _serve_error(capsys, "--db", str(path), "--port", "0")
    assert f"cannot open the database '{path}'" in err and "folder exists" in err


def test_scenario_with_an_unknown_error_code_lists_the_valid_codes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[faults]]\nprovider = "kling3api"\nerror = "RATE_LIMITTED"\ncount = 1\n')
    err = _serve_error(capsys, "--scenario", str(scenario), "--port", "0")
    assert "kling3api has no error 'RATE_LIMITTED'" in err
    assert "valid codes:" in err and "RATE_LIMITED" in err and "INSUFFICIENT_CREDITS" in err


def test_an_unknown_serve_option_prints_the_serve_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--verbose"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: klingsim serve ") and "--log-format" in err
    assert "klingsim serve: error: unrecognized arguments: --verbose" in err


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.extend(_all_parsers(sub))
    return found


def test_every_option_and_argument_has_help_text() -> None:
    missing = [
        f"{parser.prog} {action.dest}"
        for parser in _all_parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


def test_check_client_help_lists_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert [name for name, _ in CLIENT_SCENARIOS] == [s.name for s in SCENARIOS]
    with pytest.raises(SystemExit):
        main(["check", "client", "--help"])
    out = capsys.readouterr().out
    for scenario in SCENARIOS:
        assert scenario.name in out


def test_check_client_refuses_an_unknown_scenario_with_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "client", "--provider", "kling3api", "--scenario", "nope", "--", "true"])
    err = capsys.readouterr().err
    assert "invalid choice: 'nope'" in err and "slow_job" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == "klingsim 0.1.0"
