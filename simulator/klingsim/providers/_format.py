"""Small formatting helpers shared by provider hooks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal


def number(amount: Decimal) -> int | float:
    """A JSON number: an int when the amount is whole (credits), else a float."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


# Recent texts: a polled job's times are written again for every status answer.
_written: dict[datetime, str] = {}
_MAX_WRITTEN = 4096


def iso_z(moment: datetime | None) -> str | None:
    """`2026-01-01T00:00:00Z`: whole seconds, UTC."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC or moment.year < 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Only UTC times are kept: an equal time in another zone is written differently.
    text = _written.get(moment)
    if text is None:
        # isoformat is ~1.5x as fast as strftime and writes the same text for UTC, four-digit years.
        text = moment.isoformat(timespec="seconds")[:-6] + "Z"
        if len(_written) >= _MAX_WRITTEN:
            _written.clear()
        _written[moment] = text
    return text
