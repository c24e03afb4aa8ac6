"""Price tables: units, per-second rates, multipliers, fixed prices, minimum billing, charges, refunds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from klingsim.spec.doc import DocRef


class Settlement(StrEnum):
    """When money moves.

    CHARGE_THEN_REFUND: the price is debited at create and credited back if the job fails.
    HOLD_THEN_CAPTURE: the price is reserved at create, captured on success and released on failure.
    """

    CHARGE_THEN_REFUND = "charge_then_refund"
    HOLD_THEN_CAPTURE = "hold_then_capture"


@dataclass(frozen=True, slots=True)
class Rate:
    """A row of the price table; it applies when every field in `match` equals the request's value.

    Exactly one of `per_second` (unit per billed second), `multiplier` (x the table's base rate per second)
    and `fixed` (unit per job, whatever its duration) is set.
    """

    match: Mapping[str, Any]
    doc: DocRef
    per_second: Decimal | None = None
    multiplier: Decimal | None = None
    fixed: Decimal | None = None
    label: str = ""

    def applies(self, key: Mapping[str, Any]) -> bool:
        return all(key.get(k) == v for k, v in self.match.items())


@dataclass(frozen=True, slots=True)
class PriceTable:
    unit: str
    rates: tuple[Rate, ...]
    settlement: Settlement
    refund_on_failure: bool
    doc: DocRef
    base_per_second: Decimal | None = None
    minimum_seconds: int = 0
    places: int = 4
    default_balance: Decimal = Decimal(0)

    def rate_for(self, key: Mapping[str, Any]) -> Rate:
        for rate in self.rates:
            if rate.applies(key):
                return rate
        raise LookupError(f"no price row matches {dict(key)}")

    def per_second(self, rate: Rate) -> Decimal:
        if rate.per_second is not None:
            return rate.per_second
        if rate.multiplier is not None and self.base_per_second is not None:
            return self.quantize(self.base_per_second * rate.multiplier)
        raise LookupError(f"rate {rate.label or dict(rate.match)} has no per-second price")

    def price(self, key: Mapping[str, Any], seconds: float) -> Decimal:
        """The price of one job, in the table's unit, rounded to its places."""
        rate = self.rate_for(key)
        if rate.fixed is not None:
            return self.quantize(rate.fixed)
        billed = Decimal(str(max(seconds, self.minimum_seconds)))
        return self.quantize(self.per_second(rate) * billed)

    def quantize(self, amount: Decimal) -> Decimal:
        return amount.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP)
