"""EvoLink's credit prices: the seed's table for text-to-video, and what the sibling models are charged."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from klingsim.providers._evolink_models import EDIT, I2V, REF, SEED, T2V, page
from klingsim.spec import Rate, inferred, seed

# 5.4 credits = $0.0750 (seed price table), so 72 credits buy one dollar; every row agrees.
CREDITS_PER_USD = Decimal(72)
BASE_CREDITS_PER_SECOND = Decimal("5.4")


def usd_per_second(credits: Decimal) -> Decimal:
    """The dollar price the seed's table prints next to a credit price, to 4 places."""
    return (credits / CREDITS_PER_USD).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


_ROW = "| Kling O3 Text to Video | Video Generation | {q} | {s} |"
_SEED_ROWS = (
    ("720p", "off", Decimal("1.0"), "Popular $0.0750/ second(5.4 Credits)"),
    ("720p", "on", Decimal("1.334"), "$0.1001/ second(7.2036 Credits)"),
    ("1080p", "off", Decimal("1.334"), "$0.1001/ second(7.2036 Credits)"),
    ("1080p", "on", Decimal("1.667"), "$0.1250/ second(9.0018 Credits)"),
)


def _rows(model: str) -> tuple[Rate, ...]:
    rows = []
    for quality, sound, multiplier, price in _SEED_ROWS:
        if model == REF and sound == "on":
            continue  # reference-to-video has no sound flag: its sound is the source video's
        quote = _ROW.format(q=quality, s=sound.capitalize()) + f" {price} |"
        doc = (
            seed(SEED, quote)
            if model == T2V
            else inferred(
                f"{model}'s page gives no price; priced as the seed's text-to-video row"
                f" {quality} sound {sound}"
            )
        )
        credits = BASE_CREDITS_PER_SECOND * multiplier
        rows.append(
            Rate(
                {"model": model, "quality": quality, "sound": sound},
                doc,
                multiplier=multiplier,
                label=f"{model} {quality} sound {sound}: {credits.normalize()} credits/s "
                f"(${usd_per_second(credits)}/s)",
            )
        )
    return tuple(rows)


_EDIT_QUOTE = (
    "Billing: Base unit price 81,000 UC/second x input video duration (rounded up). 1080p multiplier 1.334"
)
RATES = (
    *_rows(T2V),
    *_rows(I2V),
    *_rows(REF),
    # 81,000 UC/s at 10,000 UC per credit (credits_reserved's unit) is 8.1 credits/s; x 1.334 for 1080p.
    Rate(
        {"model": EDIT, "quality": "720p", "sound": "off"},
        page(EDIT, _EDIT_QUOTE),
        per_second=Decimal("8.1"),
        label=f"{EDIT} 720p: 8.1 credits per input second",
    ),
    Rate(
        {"model": EDIT, "quality": "1080p", "sound": "off"},
        page(EDIT, _EDIT_QUOTE),
        per_second=Decimal("10.8054"),
        label=f"{EDIT} 1080p: 10.8054 credits per input second",
    ),
)
