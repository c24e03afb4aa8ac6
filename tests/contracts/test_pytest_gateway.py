"""The gateway suite as pytest items: failures carry the report's evidence, unexercised rules are skips."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from klingsim.providers import by_id
from klingsim.server.run import ThreadedServer
from tests.contracts.mutants import _param, served

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def mutant_url() -> Iterator[str]:
    with ThreadedServer(served(_param(by_id("kling3api"), "duration", maximum=16))) as server:  # type: ignore[arg-type]
        yield server.url


def test_registered_plugin_runs_one_item_per_rule(pytester: pytest.Pytester, mutant_url: str) -> None:
    pytester.makeconftest(
        f"""
from klingsim_contracts.pytest_gateway import GatewayPlugin

def pytest_configure(config):
    config.pluginmanager.register(
        GatewayPlugin("{mutant_url}/kling3api", "kling3api", None, "{mutant_url}", max_examples=3), "gw"
    )
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rfs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1, result.stdout.str()
    assert outcomes.get("passed", 0) > 40
    result.stdout.fnmatch_lines(["*FAILED*gateway[[]KLING3API-DURATION-RANGE[]]*"])
    result.stdout.fnmatch_lines(["*expected: 400 INVALID_DURATION*"])


def test_command_line_options_collect_the_rules(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--collect-only",
        "-q",
        "--klingsim-target",
        "http://127.0.0.1:9/kling3api",
        "--klingsim-provider",
        "kling3api",
    )
    result.stdout.fnmatch_lines(["*gateway[[]KLING3API-DURATION-RANGE[]]*", "*gateway[[]run[]]*"])


def test_a_target_without_a_provider_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "--klingsim-target", "http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_two_xdist_workers_on_one_upstream_both_pass(pytester: pytest.Pytester) -> None:
    from tests.contracts.gateway import sandwich

    with sandwich() as (gateway, upstream, _):
        pytester.makeconftest(
            f"""
from klingsim_contracts.pytest_gateway import GatewayPlugin

def pytest_configure(config):
    config.pluginmanager.register(
        GatewayPlugin("{gateway}/kling3api", "kling3api", None, "{upstream}", max_examples=3), "gw"
    )
"""
        )
        # Each worker runs the whole suite with its own fresh key, on the same upstream at the same time.
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes.get("passed", 0) > 40
