"""`run_gateway_suite`: every rule of one provider against one target, in layer order, into a Report."""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

import httpx

from klingsim.providers import by_id
from klingsim.spec import ProviderSpec
from klingsim_contracts.costs import Shadow, ShadowTarget
from klingsim_contracts.report import Report, Result, Verdict
from klingsim_contracts.rules import Drained, Layer, Need, NotExercised, Rule, RuleFailure, catalogue
from klingsim_contracts.sandwich import UpstreamControl, upstream_lock
from klingsim_contracts.session import KEY_PLACEHOLDER, SECRET_PLACEHOLDER, Session
from klingsim_contracts.stateful import Coverage, run_machine
from klingsim_contracts.targets import HttpTarget, Target, as_target

DEFAULT_MAX_EXAMPLES = 25
_ORDER = {Layer.PROPERTY: 0, Layer.SCHEMA: 1, Layer.SANDWICH: 2, Layer.STATEFUL: 3, Layer.PASSIVE: 4}
Progress = Callable[[Result], None]


def run_key(spec: ProviderSpec, seed: int, run_id: str) -> str:
    """A fresh API key of the provider's documented shape, derived from the seed and the run id.

    Each run owns its upstream account: jobs, holds and refunds an earlier run left behind stay on that
    run's key and never settle into this run's balances."""
    digest = hashlib.sha256(f"{spec.id}:{seed}:{run_id}".encode()).hexdigest()[:20]
    prefix = re.sub(r"[0-9a-fA-F]{8,}$", "", spec.auth.example_key)
    key = f"{prefix}kit{digest}"
    return key if spec.auth.valid_format(key) else spec.auth.example_key


def run_secret(spec: ProviderSpec, seed: int, run_id: str) -> str:
    """The secret the run key signs its tokens with (derived like the key; registered upstream)."""
    return hashlib.sha256(f"{spec.id}:{seed}:{run_id}:secret".encode()).hexdigest()[:32]


def run_gateway_suite(
    provider: str,
    target: Target | str,
    *,
    api_key: str | None = None,
    secret_key: str | None = None,
    upstream_control: UpstreamControl | Target | str | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int = 0,
    only: Callable[[Rule], bool] | None = None,
    rules: Sequence[str] | None = None,
    budget: Decimal | float | str | None = None,
    yes_spend: bool = False,
    run_id: str | None = None,
    progress: Progress | None = None,
    notice: Callable[[str], None] | None = None,
) -> Report:
    """Check `target` (a base URL, or a Target) against `provider`'s documented behaviour.

    Signed requests (the official Kling API): the kit mints a JWT for every request from the key and
    `secret_key`; its own run key gets a secret of its own, registered upstream with `upstream_control`.

    Money: on a controlled klingsim upstream the kit funds its own key. Otherwise every accepted job may be
    real money, so the kit prices the run first (from the spec's price table) and spends at most `budget`
    (in the provider's unit; 0 unless given), or without limit with `yes_spend`; rules that would spend
    more are reported not exercised, with the flag that would run them.
    """
    spec = by_id(provider)
    catalogue_rules = catalogue(spec)
    _check_selection(catalogue_rules, rules)
    tgt = as_target(target)
    run = run_id or uuid.uuid4().hex[:12]
    key = api_key or tgt.api_key or run_key(spec, seed, run)
    if secret_key is None and spec.auth.signed is not None and key != api_key:
        secret_key = run_secret(spec, seed, run)
    control = (
        upstream_control
        if isinstance(upstream_control, UpstreamControl) or upstream_control is None
        else UpstreamControl(upstream_control)
    )
    limit = None if yes_spend else Decimal(str(budget or 0))
    session = Session(
        spec, tgt, key, control, seed, max_examples, shadow=Shadow(spec), budget=limit, secret=secret_key
    )
    tell = notice or (lambda _line: None)
    try:
        report = Report(provider, tgt.base_url, seed, max_examples, api_key=key)
        report.command = _command(
            provider, tgt, control, max_examples, seed, rules, budget, yes_spend, api_key
        )
        if api_key and secret_key:
            at = report.command.index(KEY_PLACEHOLDER) + 1
            report.command[at:at] = ["--secret-key", SECRET_PLACEHOLDER]
        report.secret_key = session.secret or ""
        chosen = [
            r for r in catalogue_rules if (only is None or only(r)) and (rules is None or r.id in rules)
        ]
        chosen.sort(key=lambda r: (r.order, _ORDER[r.layer]))
        started = time.perf_counter()
        problem = _reach(session)
        if problem:
            report.problems.append(problem)
            report.results = [Result(r, Verdict.NOT_EXERCISED, problem) for r in chosen]
            return report
        skipped = _plan_money(session, chosen, report, tell)
        _run_rules(session, chosen, skipped, report, progress)
        report.seconds = time.perf_counter() - started
        report.spent = session.spent
        if not session.funded() and session.spent:
            report.notes.append(f"spent about {session.spent} {spec.prices.unit} through the target")
        if session.drained:
            report.notes.append(
                "the account ran out of credits: the rules after that point are listed not exercised"
            )
        if not any(r.verdict is not Verdict.NOT_EXERCISED for r in report.results):
            report.problems.append(
                "no rule was exercised: the run proves nothing (see the reasons above)"
                if chosen
                else "no rule was selected"
            )
    finally:
        # Close only what this call opened from URLs; targets passed in belong to the caller.
        if isinstance(target, str):
            tgt.close()
        if control is not None and isinstance(upstream_control, str):
            control.close()
    return report


def _run_rules(
    session: Session, chosen: list[Rule], skipped: dict[str, str], report: Report, progress: Progress | None
) -> None:
    """Every chosen rule in layer order: active rules, then the state machine, then the passive verdicts."""
    for rule in chosen:
        if rule.layer in (Layer.PASSIVE, Layer.STATEFUL):
            continue
        if session.drained:
            _record(report, rule, Result(rule, Verdict.NOT_EXERCISED, _DRAINED), progress)
            continue
        session.paying, session.unpaid = rule.id not in skipped, ""
        with _upstream_turn(session, rule):
            result = _run_one(session, rule)
        if session.unpaid and result.verdict is not Verdict.FAILED:
            why = skipped.get(rule.id, session.unpaid)
            partly = "its free checks passed; " if result.verdict is Verdict.PASSED else ""
            result = Result(rule, Verdict.NOT_EXERCISED, partly + why, seconds=result.seconds)
        _record(report, rule, result, progress)
    stateful = [r for r in chosen if r.layer is Layer.STATEFUL]
    session.paying, session.unpaid = True, ""
    if stateful:
        if session.drained:
            results = [Result(r, Verdict.NOT_EXERCISED, _DRAINED) for r in stateful]
        else:
            with _upstream_turn(session, stateful[0]):
                results = _run_stateful(session, stateful)
        for result in results:
            _record(report, result.rule, result, progress)
    for rule in chosen:
        if rule.layer is Layer.PASSIVE:
            _record(report, rule, _passive(session, rule), progress)


_DRAINED = (
    "the account ran out of credits earlier in the run (give a funded --api-key, or --upstream-control)"
)


def _check_selection(known: list[Rule], rules: Sequence[str] | None) -> None:
    if rules is None:
        return
    ids = [r.id for r in known]
    unknown = [r for r in rules if r not in ids]
    if unknown:
        raise KeyError(f"unknown rule(s) {', '.join(unknown)}; valid: {', '.join(ids)}")


def _reach(session: Session) -> str:
    """Why the run can't judge anything (an unreachable target or upstream control plane), or ""."""
    try:
        session.target.request("GET", session.status_endpoint.path.split("{")[0] or "/")
    except httpx.TransportError as error:
        return f"could not reach the target {session.target.base_url}: {error}"
    if session.control is None:
        return ""
    try:
        session.top_up()
    except httpx.TransportError as error:
        return f"could not reach the upstream control plane {session.control.url}: {error}"
    if isinstance(session.control.target, HttpTarget):
        with upstream_lock(session.control.url, exclusive=True):
            session.control.settle_leftovers()
    return ""


def _plan_money(
    session: Session, rules: list[Rule], report: Report, tell: Callable[[str], None]
) -> dict[str, str]:
    """Price the run; the rules it can't afford, each with why and the flag that would run it."""
    spec = session.spec
    unit = spec.prices.unit
    if session.funded():
        report.notes.append("the upstream is a klingsim: the kit funds its own key there (no real money)")
        tell(report.notes[-1])
        return {}
    costs = estimate(session, rules)
    total = sum(costs.values(), Decimal(0))
    report.estimate = total
    line = f"estimated cost of the full run: {total} {unit} (from {spec.id}'s price table)"
    report.notes.append(line)
    tell(line)
    if session.budget is None:
        return {}
    skipped: dict[str, str] = {}
    planned = Decimal(0)
    for rule in rules:
        cost = costs.get(rule.id, Decimal(0))
        if cost <= 0:
            continue
        if planned + cost <= session.budget:
            planned += cost
            continue
        if session.budget == 0:
            skipped[rule.id] = (
                f"spends money (about {cost} {unit}); give --budget {cost} or --yes-spend, or "
                "--upstream-control to run it on a klingsim upstream"
            )
        else:
            skipped[rule.id] = (
                f"spends about {cost} {unit}, over the --budget of {session.budget} {unit} ({planned} "
                f"planned); raise --budget to {planned + cost} or give --yes-spend"
            )
    if skipped:
        tell(f"{len(skipped)} rule(s) would spend money and are not exercised (see the table)")
    return skipped


def estimate(session: Session, rules: list[Rule]) -> dict[str, Decimal]:
    """Per rule, what it spends against a faithful gateway: a dry run against the shadow klingsim."""
    shadow = Shadow(session.spec)
    target = ShadowTarget(shadow)
    # The target is the shadow itself: what it charged is what a faithful gateway would spend.
    dry = Session(session.spec, target, session.api_key, None, session.seed, session.max_examples)
    dry.secret = session.secret
    costs: dict[str, Decimal] = {}
    try:
        for rule in rules:
            if rule.layer in (Layer.PASSIVE, Layer.STATEFUL) or rule.check is None:
                continue
            _run_one(dry, rule)
            costs[rule.id] = shadow.spent()
            shadow.forget()
    finally:
        target.close()
    return costs


@contextlib.contextmanager
def _upstream_turn(session: Session, rule: Rule) -> Iterator[None]:
    """Runs sharing one upstream take turns: faults, clock moves and bursts are upstream-wide, so a rule
    using them runs alone; the others run side by side."""
    if session.control is None or not isinstance(session.control.target, HttpTarget):
        yield  # an in-process upstream belongs to this run alone
        return
    exclusive = bool(rule.needs) or rule.layer in (Layer.SANDWICH, Layer.STATEFUL) or rule.order > 0
    with upstream_lock(session.control.url, exclusive):
        yield


def _command(
    provider: str,
    target: Target,
    control: UpstreamControl | None,
    max_examples: int,
    seed: int,
    rules: Sequence[str] | None,
    budget: Decimal | float | str | None,
    yes_spend: bool,
    api_key: str | None,
) -> list[str]:
    """The command line that repeats this run (the key, if one was given, as $KLINGSIM_API_KEY)."""
    argv = ["klingsim", "check", "gateway", "--provider", provider, "--target", target.base_url]
    if control is not None:
        argv += ["--upstream-control", control.url]
    if api_key:
        argv += ["--api-key", KEY_PLACEHOLDER]
    argv += ["--seed", str(seed)]
    if max_examples != DEFAULT_MAX_EXAMPLES:
        argv += ["--max-examples", str(max_examples)]
    if yes_spend:
        argv.append("--yes-spend")
    elif budget:
        argv += ["--budget", str(budget)]
    for rule_id in rules or ():
        argv += ["--rule", rule_id]
    return argv


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
        _with_setup(session, failure)
        return Result(rule, Verdict.FAILED, failure=failure, seconds=time.perf_counter() - started)
    except NotExercised as why:
        return Result(rule, Verdict.NOT_EXERCISED, str(why), seconds=time.perf_counter() - started)
    except Drained as drained:
        return Result(rule, Verdict.NOT_EXERCISED, str(drained), seconds=time.perf_counter() - started)
    except httpx.TransportError as error:
        reason = f"could not reach the target: {error}"
        return Result(rule, Verdict.NOT_EXERCISED, reason, seconds=time.perf_counter() - started)
    return Result(rule, Verdict.PASSED, seconds=time.perf_counter() - started)


def _with_setup(session: Session, failure: RuleFailure) -> None:
    """Put the upstream control-plane steps (balances, faults, clock) that preceded the failing requests
    in front of them, so the reproduction sets the upstream up as the kit did."""
    shown = {id(e) for e in failure.exchanges}
    if not failure.exchanges:
        return
    first = next((i for i, e in enumerate(session.trail) if id(e) in shown), len(session.trail))
    setup = [e for e in session.trail[:first] if e.step == "upstream control" and id(e) not in shown]
    failure.exchanges[:0] = setup


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
