"""Small formatting helpers shared by provider hooks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal


def number(amount: Decimal) -> int | float:
    """A JSON number: an int when the amount is whole (credits), else a float."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def iso_z(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None
