"""fal's prices in USD per output second: held at submit, captured on success, released on failure."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.kling_auth import FAL_KEY, fal_headers
from tests.support import SimClient

PRICES = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "fal" / "prices.json").read_text())
H = fal_headers()


def balance(c: SimClient) -> Decimal:
    return Decimal(str(c.get(f"/_klingsim/accounts/fal/{FAL_KEY}").json()["balance"]))


def body_for(row: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": "a price check", "duration": "7", "generate_audio": row["audio"]}
    if row.get("voice_ids"):
        body["voice_ids"] = ["voice_a"]
    if "/o3/" in row["model"] and row["model"].endswith("image-to-video"):
        body["image_url"] = "https://example.com/a.png"
    if "/v3/" in row["model"] and row["model"].endswith("image-to-video"):
        body["start_image_url"] = "https://example.com/a.png"
    return body


@pytest.mark.parametrize("row", PRICES["rows"], ids=lambda r: f"{r['model']}-{r['audio']}")
def test_every_price_row(row: dict[str, Any]) -> None:
    c = SimClient()
    answer = c.post(f"/fal/{row['model']}", headers=H, json=body_for(row))
    assert answer.status_code == 200, answer.text
    c.advance(3600)
    result = c.get(answer.json()["response_url"], headers=H)
    assert result.headers["x-fal-billable-units"] == "7"
    assert balance(c) == Decimal(PRICES["default_balance"]) - Decimal(row["per_second"]) * 7


def test_video_edit_bills_the_default_five_seconds_of_an_unprobeable_source() -> None:
    c = SimClient()
    edit = PRICES["video_edit"]
    body = {"prompt": "x", "video_url": "https://example.com/a.mp4"}
    assert c.post(f"/fal/{edit['model']}", headers=H, json=body).status_code == 200
    c.advance(3600)
    assert balance(c) == Decimal(PRICES["default_balance"]) - Decimal(edit["per_second"]) * 5


def test_video_edit_bills_the_length_of_a_klingsim_output() -> None:
    c = SimClient()
    first = c.post(
        "/fal/fal-ai/kling-video/o3/standard/text-to-video", headers=H, json={"prompt": "x", "duration": "4"}
    ).json()
    c.advance(3600)
    source = c.get(first["response_url"], headers=H).json()["video"]["url"]
    edit = PRICES["video_edit"]
    answer = c.post(f"/fal/{edit['model']}", headers=H, json={"prompt": "x", "video_url": source}).json()
    c.advance(3600)
    assert c.get(answer["response_url"], headers=H).headers["x-fal-billable-units"] == "4"


def test_a_new_key_starts_with_ten_dollars() -> None:
    c = SimClient()
    c.post("/fal/fal-ai/kling-video/o3/standard/text-to-video", headers=H, json={"prompt": "x"})
    assert c.get(f"/_klingsim/accounts/fal/{FAL_KEY}").json()["unit"] == "USD"
