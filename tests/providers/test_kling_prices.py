"""Kling's unit table (an inferred setting): charged at creation, as a string, and refunded on failure."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from klingsim.providers import by_id
from tests.kling_auth import kling_headers
from tests.support import SimClient

PRICES = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "kling" / "prices.json").read_text())


def remaining(c: SimClient) -> Decimal:
    infos = c.get("/kling/account/costs", headers=kling_headers()).json()["data"][
        "resource_pack_subscribe_infos"
    ]
    return Decimal(str(infos[0]["remaining_quantity"]))


@pytest.mark.parametrize("row", PRICES["rows"], ids=lambda r: f"{r['model_name']}-{r['mode']}-{r['sound']}")
def test_every_row_is_charged_at_creation_and_reported_as_a_string(row: dict[str, Any]) -> None:
    c = SimClient()
    body = {
        "model_name": row["model_name"],
        "mode": row["mode"],
        "duration": row["duration"],
        "prompt": "a price check",
    }
    if row["sound"] == "on":
        body["sound"] = "on"
    created = c.post("/kling/v1/videos/text2video", headers=kling_headers(), json=body)
    assert created.status_code == 200, created.text
    assert remaining(c) == PRICES["default_pack"] - Decimal(row["units"])
    c.advance(3600)
    task_id = created.json()["data"]["task_id"]
    data = c.get(f"/kling/v1/videos/text2video/{task_id}", headers=kling_headers()).json()["data"]
    assert data["final_unit_deduction"] == row["units"]


def test_the_unit_rates_are_inferred_settings() -> None:
    spec = by_id("kling")
    names = {s.name: s for s in spec.settings}
    for name in ("max_concurrent_tasks", "jwt_leeway_seconds", "default_balance"):
        assert name in names and names[name].doc.inferred, name


def test_omni_defaults_to_pro_and_image2video_to_std() -> None:
    c = SimClient()
    c.post("/kling/v1/videos/omni-video", headers=kling_headers(), json={"prompt": "x"})
    assert remaining(c) == Decimal("1000") - Decimal("1.75")
    c.post(
        "/kling/v1/videos/image2video", headers=kling_headers(), json={"image": "https://example.com/a.jpg"}
    )
    assert remaining(c) == Decimal("1000") - Decimal("1.75") - Decimal("1")
