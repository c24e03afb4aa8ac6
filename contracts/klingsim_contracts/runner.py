"""`run_gateway_suite`: every rule of one provider against one target, in layer order, into a Report."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from klingsim.providers import by_id
from klingsim_contracts import coverage
from klingsim_contracts.report import Report, Result, Verdict
from klingsim_contracts.rules import Drained, Layer, Need, NotExercised, Rule, RuleFailure, catalogue
from klingsim_contracts.sandwich import UpstreamControl
from klingsim_contracts.session import Session
from klingsim_contracts.stateful import Coverage, run_machine
from klingsim_contracts.targets import Target, as_target

DEFAULT_MAX_EXAMPLES = 25
_ORDER = {Layer.PROPERTY: 0, Layer.SCHEMA: 1, Layer.SANDWICH: 2, Layer.STATEFUL: 3, Layer.PASSIVE: 4}
Progress = Callable[[Result], None]


def run_gateway_suite(
    provider: str,
    target: Target | str,
    *,
    api_key: str | None = None,
    upstream_control: UpstreamControl | Target | str | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int = 0,
    only: Callable[[Rule], bool] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Check `target` (a base URL, or a Target) against `provider`'s documented behaviour."""
    spec = by_id(provider)
    coverage.require(spec)
    tgt = as_target(target)
    key = api_key or tgt.api_key or spec.auth.example_key
    control = (
        upstream_control
        if isinstance(upstream_control, UpstreamControl) or upstream_control is None
        else UpstreamControl(upstream_control)
    )
    session = Session(spec, tgt, key, control, seed, max_examples)
    try:
        report = Report(provider, tgt.base_url, seed, max_examples, api_key=key)
        rules = [r for r in catalogue(spec) if only is None or only(r)]
        rules.sort(key=lambda r: (r.order, _ORDER[r.layer]))
        started = time.perf_counter()
        try:
            session.top_up()
        except httpx.TransportError as error:
            report.problems.append(f"could not reach the upstream control plane: {error}")
        for rule in rules:
            if rule.layer in (Layer.PASSIVE, Layer.STATEFUL) or session.drained:
                continue
            _record(report, rule, _run_one(session, rule), progress)
        stateful = [r for r in rules if r.layer is Layer.STATEFUL]
        if stateful and not session.drained:
            for result in _run_stateful(session, stateful):
                _record(report, result.rule, result, progress)
        for rule in rules:
            if rule.layer is Layer.PASSIVE:
                _record(report, rule, _passive(session, rule), progress)
        report.seconds = time.perf_counter() - started
        if session.drained:
            report.problems.append(
                "the account was drained: later answers prove nothing (give --upstream-control or a funded "
                "key)"
            )
        if rules and not any(r.verdict is not Verdict.NOT_EXERCISED for r in report.results):
            report.problems.append("no rule was exercised")
    finally:
        # Close only what this call opened from URLs; targets passed in belong to the caller.
        if isinstance(target, str):
            tgt.close()
        if control is not None and isinstance(upstream_control, str):
            control.close()
    return report


def _record(report: Report, rule: Rule, result: Result, progress: Progress | None) -> None:
    report.results.append(result)
    if progress is not None:
        progress(result)


def _run_one(session: Session, rule: Rule) -> Result:
    assert rule.check is not None
    started = time.perf_counter()
    session.trail.clear()
    if session.control is not None and Need.ACCOUNTS not in rule.needs:
        session.top_up()
    try:
        rule.check(session)
    except RuleFailure as failure:
        failure.rule_id = rule.id
        return Result(rule, Verdict.FAILED, failure=failure, seconds=time.perf_counter() - started)
    except NotExercised as why:
        return Result(rule, Verdict.NOT_EXERCISED, str(why), seconds=time.perf_counter() - started)
    except Drained as drained:
        return Result(rule, Verdict.NOT_EXERCISED, str(drained), seconds=time.perf_counter() - started)
    except httpx.TransportError as error:
        reason = f"could not reach the target: {error}"
        return Result(rule, Verdict.NOT_EXERCISED, reason, seconds=time.perf_counter() - started)
    return Result(rule, Verdict.PASSED, seconds=time.perf_counter() - started)


def _run_stateful(session: Session, rules: list[Rule]) -> list[Result]:
    started = time.perf_counter()
    by_suffix = {r.id.removeprefix(session.spec.id.upper() + "-"): r for r in rules}
    if session.control is None or not session.control.virtual_clock():
        # Every stateful rule needs the upstream clock; without it the machine would only spend credits.
        return [Result(r, Verdict.NOT_EXERCISED, _why_not(session, r, Coverage())) for r in rules]
    try:
        coverage = run_machine(session)
    except httpx.TransportError as error:
        return [Result(r, Verdict.NOT_EXERCISED, f"could not reach the target: {error}") for r in rules]
    except RuleFailure as failure:
        failing = next((r for r in rules if r.id == failure.rule_id), None)
        results = []
        for rule in rules:
            if rule is failing:
                results.append(Result(rule, Verdict.FAILED, failure=failure))
            else:
                results.append(
                    Result(rule, Verdict.NOT_EXERCISED, f"the state machine stopped at {failure.rule_id}")
                )
        return results
    except Drained as drained:
        return [Result(r, Verdict.NOT_EXERCISED, str(drained)) for r in rules]
    seen = {
        "LIFECYCLE-ORDER": coverage.moves,
        "TERMINAL-FINAL": coverage.terminal_repolls,
        "PROGRESS-MONOTONIC": coverage.progress_pairs,
        "LEDGER": coverage.ledger_checks,
    }
    elapsed = time.perf_counter() - started
    results = []
    for suffix, rule in by_suffix.items():
        if seen.get(suffix, 0):
            results.append(Result(rule, Verdict.PASSED, seconds=elapsed))
        else:
            results.append(Result(rule, Verdict.NOT_EXERCISED, _why_not(session, rule, coverage)))
    return results


def _why_not(session: Session, rule: Rule, coverage: Coverage) -> str:
    if session.control is None:
        return "needs --upstream-control to move the upstream clock"
    if Need.CLOCK in rule.needs and not session.control.virtual_clock():
        return "needs the upstream klingsim on a virtual clock"
    if Need.ACCOUNTS in rule.needs and not session.has_accounts():
        return "needs upstream accounts"
    return "the state machine never reached a state that tests it"


def _passive(session: Session, rule: Rule) -> Result:
    state = session.passive.get(rule.id)
    if state is None or state.seen == 0:
        return Result(rule, Verdict.NOT_EXERCISED, "no answer of this kind was seen")
    if state.failure is not None:
        return Result(rule, Verdict.FAILED, failure=state.failure)
    return Result(rule, Verdict.PASSED)
