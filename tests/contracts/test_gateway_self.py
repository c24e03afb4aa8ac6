"""The gateway suite passes against klingsim itself, for every provider, in process and over HTTP."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL, by_id
from klingsim.server.app import KlingsimApp
from klingsim.server.run import ThreadedServer
from klingsim_contracts.report import Verdict
from klingsim_contracts.rules import catalogue
from klingsim_contracts.runner import run_gateway_suite
from tests.contracts.support import run_in_process

# The seed providers; the official Kling API and fal (several operations, more rules) have their own, quicker
# runs in test_upstream_gateway.py.
IDS = [spec.id for spec in ALL if spec.id not in ("kling", "fal")]


def _app() -> KlingsimApp:
    return KlingsimApp(Simulator(ALL, VirtualClock(), seed=0, secret=b"self-test"))


@pytest.mark.parametrize("provider", IDS)
def test_klingsim_passes_in_process(provider: str) -> None:
    report = run_in_process(_app(), provider)
    assert report.ok, report.text()
    passed = report.count(Verdict.PASSED)
    assert passed >= 0.9 * len(report.results), report.table()
    # With the sandwich every time- and money-dependent rule runs; only undeliverable callbacks may not, and
    # the length of a reference video, which the upstream judges only for its own outputs.
    skipped = {r.rule.id for r in report.results if r.verdict is Verdict.NOT_EXERCISED}
    allowed = {f"{provider.upper()}-CALLBACK-RETRIES", f"{provider.upper()}-LIFECYCLE-ORDER"}
    allowed |= {r.rule.id for r in report.results if r.rule.id.endswith("-REFERENCE-VIDEO-LENGTH")}
    assert skipped <= allowed, skipped


@pytest.fixture(scope="module")
def server() -> object:
    with ThreadedServer(_app()) as running:
        yield running


@pytest.mark.parametrize("provider", IDS)
def test_klingsim_passes_over_http(server: ThreadedServer, provider: str) -> None:
    report = run_gateway_suite(
        provider, f"{server.url}/{provider}", upstream_control=server.url, max_examples=5, seed=1
    )
    assert report.ok, report.text()
    assert report.count(Verdict.PASSED) >= 0.9 * len(report.results), report.table()


def test_without_upstream_control_time_rules_are_not_exercised_never_passed() -> None:
    report = run_in_process_without_control("kling3api")
    verdicts = {r.rule.id: r.verdict for r in report.results}
    for rule in ("KLING3API-URL-EXPIRY", "KLING3API-REFUND-ON-FAILURE", "KLING3API-LEDGER"):
        assert verdicts[rule] is Verdict.NOT_EXERCISED
    assert report.ok, report.text()


def run_in_process_without_control(provider: str):  # type: ignore[no-untyped-def]
    from klingsim_contracts.targets import AsgiTarget

    target = AsgiTarget(_app(), f"http://testserver/{provider}")
    try:
        return run_gateway_suite(provider, target, max_examples=5)
    finally:
        target.close()


def test_a_drained_account_lists_the_later_rules_not_exercised_never_passed() -> None:
    from decimal import Decimal

    from klingsim_contracts.targets import AsgiTarget

    sim = Simulator(ALL, VirtualClock(), seed=0)
    app = KlingsimApp(sim)
    sim.set_balance("kling3api", "k3a_live_0123456789abcdef", Decimal(0))
    target = AsgiTarget(app, "http://testserver/kling3api")
    try:
        report = run_gateway_suite(
            "kling3api", target, api_key="k3a_live_0123456789abcdef", max_examples=3, yes_spend=True
        )
    finally:
        target.close()
    price = report.result("KLING3API-PRICE")
    assert price.verdict is Verdict.NOT_EXERCISED and "--upstream-control" in price.reason, price.reason
    assert len(report.results) == len(catalogue(by_id("kling3api"))), "no rule drops out of the table"
    assert any("ran out of credits" in n for n in report.notes), report.notes
    assert '--api-key "$KLINGSIM_API_KEY"' in report.rerun() and "--yes-spend" in report.rerun()


def test_an_unreachable_target_cannot_be_judged_exit_2() -> None:
    report = run_gateway_suite(
        "kling3api", "http://127.0.0.1:9/kling3api", max_examples=1, only=lambda r: r.id.endswith("-LEDGER")
    )
    assert report.problems[0].startswith("could not reach the target http://127.0.0.1:9/kling3api")
    assert report.exit_code == 2
    assert [r.verdict for r in report.results] == [Verdict.NOT_EXERCISED]


def test_junit_carries_rule_properties_and_verdicts() -> None:
    report = run_in_process(_app(), "kling3api", max_examples=3)
    suite = ET.fromstring(report.junit())
    cases = suite.findall("testcase")
    assert len(cases) == len(report.results)
    first = cases[0]
    props = {p.get("name"): p.get("value") for p in first.iter("property")}
    assert props["rule_id"] == first.get("name")
    assert props["citation"] and props["kind"] in ("documented", "inferred")
