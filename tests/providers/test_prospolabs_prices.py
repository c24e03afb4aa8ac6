"""Every row of Prospolabs' USD rate table (fixtures/prospolabs/prices.json), charged and reported per job."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from klingsim.providers.prospolabs import SPEC
from tests.support import SimClient, bearer

PRICES = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "prospolabs" / "prices.json").read_text()
)
KEY = "prsp-0123456789abcdef"
H = bearer(KEY)


@pytest.mark.parametrize("row", PRICES["rows"], ids=lambda r: f"{r['quality']}-audio-{r['generate_audio']}")
@pytest.mark.parametrize("seconds", [3, 5, 15])
def test_every_rate_row_prices_a_job_and_charges_it(row: dict[str, Any], seconds: int) -> None:
    c = SimClient([SPEC])
    body = {
        "model": "kling-o3",
        "prompt": "a fox",
        "quality": row["quality"],
        "generate_audio": row["generate_audio"],
        "duration": seconds,
    }
    answer = c.post("/prospolabs/v1/generate", headers=H, json=body).json()
    expected = Decimal(row["usd_per_second"]) * seconds
    assert Decimal(str(answer["estimated_cost_usd"])) == expected
    assert isinstance(answer["estimated_cost_usd"], float)
    assert c.sim.ledger.balance("prospolabs", KEY) == Decimal(10) - expected


def test_the_table_is_the_seed_ranges_and_nothing_else() -> None:
    rows = {
        (r.match["quality"], r.match["generate_audio"]): SPEC.prices.per_second(r) for r in SPEC.prices.rates
    }
    assert rows == {(r["quality"], r["generate_audio"]): Decimal(r["usd_per_second"]) for r in PRICES["rows"]}
    assert min(rows.values()) == Decimal("0.100")  # "Starts from $0.100/ second"
    assert max(rows.values()) == Decimal("0.168")  # "Retail $0.168"
    assert SPEC.prices.unit == "USD" and SPEC.prices.refund_on_failure


def test_storyboard_is_billed_for_the_sum_of_its_shots() -> None:
    c = SimClient([SPEC])
    shots = [{"prompt": "one", "duration": 4}, {"prompt": "two", "duration": "5"}]
    body = {
        "model": "kling-o3",
        "prompt": "a fox",
        "quality": "pro",
        "generate_audio": True,
        "multi_prompt": shots,
    }
    answer = c.post("/prospolabs/v1/generate", headers=H, json=body).json()
    assert Decimal(str(answer["estimated_cost_usd"])) == Decimal("0.168") * 9
