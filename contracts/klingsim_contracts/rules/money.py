"""Rules on money: the price table, minimum billing, refunds of failed jobs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from typing import Any

from klingsim.spec import ParamType, Phase, ProviderSpec, Settlement, Variant
from klingsim_contracts import flows, shapes
from klingsim_contracts import strategies as gen
from klingsim_contracts.properties import run_examples
from klingsim_contracts.rules.base import Layer, Need, NotExercised, Rule, RuleFailure
from klingsim_contracts.session import Session


def row_bodies(spec: ProviderSpec) -> list[dict[str, Any]]:
    """One valid body per reachable row of the price table (row fields set on a base body)."""
    found: dict[int, dict[str, Any]] = {}
    for base in gen.base_bodies(spec):
        variant = gen.variant_of(spec, base)
        assert variant is not None
        for rate in spec.prices.rates:
            body = dict(base)
            for key, value in rate.match.items():
                if variant.param(key) is not None and key != gen.discriminator(spec):
                    body[key] = value
            body = gen.valid_body(spec, variant, body)
            index = _row(spec, body)
            if index is not None and index not in found:
                found[index] = body
    if len(found) < len(spec.prices.rates):
        _search_rows(spec, found)
    return [found[i] for i in sorted(found)]


def _changes(spec: ProviderSpec, variant: Variant, base: dict[str, Any]) -> list[tuple[str, Any]]:
    """Single field values to try on a base body: every enum value, both booleans, a value for each absent
    list (fal's price key `audio` is its `generate_audio`, `voices` its `voice_ids`)."""
    out: list[tuple[str, Any]] = []
    for param in variant.params:
        if param.name == gen.discriminator(spec):
            continue
        if param.enum:
            out += [(param.name, v) for v in param.enum]
        elif param.type is ParamType.BOOLEAN:
            out += [(param.name, True), (param.name, False)]
        elif param.type is ParamType.ARRAY and param.name not in base:
            out.append((param.name, gen.valid_value(param)))
    return out


def _search_rows(spec: ProviderSpec, found: dict[int, dict[str, Any]]) -> None:
    """Rows whose key fields are not request fields: one changed field, then two, on each base body."""
    for size in (1, 2):
        for base in gen.base_bodies(spec):
            variant = gen.variant_of(spec, base)
            assert variant is not None
            for combo in itertools.combinations(_changes(spec, variant, base), size):
                if len({name for name, _ in combo}) < size:
                    continue
                body = {**base, **dict(combo)}
                index = _row(spec, body)
                if index is not None and index not in found:
                    found[index] = body
            if len(found) == len(spec.prices.rates):
                return


def reached_rows(spec: ProviderSpec) -> list[int]:
    """The indexes of the price-table rows the PRICE rule sends a request for."""
    return [row for row in map(partial(_row, spec), row_bodies(spec)) if row is not None]


def _row(spec: ProviderSpec, body: dict[str, Any]) -> int | None:
    plan = gen.evaluation(spec, body).plan
    return None if plan is None else spec.prices.rates.index(spec.prices.rate_for(plan.price_key))


def refunds_failures(spec: ProviderSpec) -> bool:
    refund = bool(spec.setting_values().get("refund_failed_jobs", spec.prices.refund_on_failure))
    return refund or spec.prices.settlement is Settlement.HOLD_THEN_CAPTURE


def _close(a: Decimal, b: Decimal, places: int) -> bool:
    return abs(a - b) <= Decimal(1).scaleb(-places) / 2 + Decimal("1e-9")


def shows_prices(session: Session) -> bool:
    """Whether a price can be judged: the create answer shows it, or the kit reads upstream balances."""
    return session.has_accounts() or session.shapes.created_cost is not None


def check_price(spec: ProviderSpec, rule_id: str, session: Session, body: dict[str, Any]) -> None:
    expected = gen.price_of(spec, body)
    if expected is None:
        return
    places = spec.prices.places
    ledger = session.has_accounts() and session.shapes.created_cost is None
    before = session.balance() if ledger else None
    ex = session.accept(body, rule_id, "a priced request")
    shown = shapes.read(ex.response, session.shapes.created_cost)
    if isinstance(shown, int | float) and not isinstance(shown, bool):
        if not _close(Decimal(str(shown)), expected, places):
            raise RuleFailure(
                rule_id,
                f"a price of {expected} {spec.prices.unit}",
                f"{shown} {spec.prices.unit}",
                [ex],
                body,
            )
        return
    if before is None:
        raise NotExercised("the create answer shows no price and --upstream-control is absent")
    spent = before - session.balance()
    if not _close(spent, expected, places):
        raise RuleFailure(
            rule_id,
            f"{expected} {spec.prices.unit} debited",
            f"{spent} {spec.prices.unit} debited",
            [ex],
            body,
        )


def _check_prices(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    bodies = row_bodies(spec)
    if not bodies:
        raise NotExercised("no price row is reachable from documented fields")
    for body in bodies:
        session.trail.clear()
        check_price(spec, rule_id, session, body)
    if shows_prices(session):
        run_examples(
            session, rule_id, gen.valid_requests(spec), partial(check_price, spec, rule_id, session), 2
        )


def _check_minimum(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    for variant in gen.variants(spec):
        param = variant.param("duration")
        base = gen.base_for(spec, variant, ("duration",)) if param is not None else None
        if param is None or param.minimum is None or base is None:
            continue
        check_price(spec, rule_id, session, gen.with_value(base, ("duration",), param.minimum))
        return
    raise NotExercised("no variant has a duration field to bill at its minimum")


def _check_refund(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    session.need_control(clock=True)
    before = session.balance()
    created = flows.create_failing(session, rule_id)
    job_id = session.job_id(created)
    assert job_id is not None
    price = gen.price_of(spec, created.input) or Decimal(0)
    last = flows.finish(session, job_id)
    failed = spec.lifecycle.word(Phase.FAILED)
    word = session.job_status(last)
    if word != failed:
        raise RuleFailure(
            rule_id, f"the job to end {failed!r}", repr(word), list(session.trail), created.body
        )
    after = session.balance()
    expected = before if refunds_failures(spec) else before - price
    if not _close(after, expected, spec.prices.places):
        raise RuleFailure(
            rule_id,
            f"balance {expected} after the failed job ({'refunded' if refunds_failures(spec) else 'kept'})",
            f"balance {after} (was {before})",
            list(session.trail),
            created.body,
        )


def money_rules(spec: ProviderSpec) -> Iterator[Rule]:
    pid = spec.id.upper()
    prices = spec.prices
    yield Rule(
        f"{pid}-PRICE",
        spec.id,
        f"each job costs its price-table row ({len(prices.rates)} rows, {prices.unit})",
        prices.rates[0].doc if prices.rates else prices.doc,
        Layer.PROPERTY,
        partial(_check_prices, spec, f"{pid}-PRICE"),
        covers=frozenset(f"price:{row}" for row in reached_rows(spec)),
    )
    if prices.minimum_seconds:
        yield Rule(
            f"{pid}-MINIMUM-BILLING",
            spec.id,
            f"jobs are billed at least {prices.minimum_seconds} s",
            prices.doc,
            Layer.PROPERTY,
            partial(_check_minimum, spec, f"{pid}-MINIMUM-BILLING"),
        )
    yield Rule(
        f"{pid}-REFUND-ON-FAILURE",
        spec.id,
        "a failed job's charge is refunded (or its hold released)"
        if refunds_failures(spec)
        else "a failed job stays charged",
        prices.doc,
        Layer.SANDWICH,
        partial(_check_refund, spec, f"{pid}-REFUND-ON-FAILURE"),
        frozenset({Need.CLOCK, Need.ACCOUNTS}),
    )
