"""EmpirioLabs money: every row of both price tables, multi-scene and video-input billing, holds, refunds."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from klingsim.providers.empiriolabs import SPEC
from tests.support import SimClient, bearer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "empiriolabs"
KEY = "sk-empiriolabs-prices0123456789"
H = bearer(KEY)
CREATE = "/empiriolabs/v1/videos/generations"
START = Decimal(SPEC.setting_values()["default_balance"])


def rows(name: str) -> list[dict[str, Any]]:
    table: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())["rows"]
    return table


def balance(client: SimClient) -> Decimal:
    return client.sim.ledger.balance("empiriolabs", KEY)


def run(client: SimClient, body: dict[str, Any]) -> dict[str, Any]:
    created = client.post(CREATE, headers=H, json=body)
    assert created.status_code == 200, created.text
    client.advance(3600)
    job: dict[str, Any] = client.get(f"/empiriolabs/v1/jobs/{created.json()['job_id']}", headers=H).json()
    return job


def cost(job: dict[str, Any]) -> Decimal:
    return Decimal(str(job["result"]["usage"]["cost"]["amount"]))


@pytest.mark.parametrize("duration", [3, 5, 15])
@pytest.mark.parametrize("row", rows("o3_prices.json") + rows("turbo_prices.json"), ids=lambda r: r["label"])
def test_every_row_of_both_tables_bills_its_rate_times_seconds(row: dict[str, Any], duration: int) -> None:
    client = SimClient([SPEC])
    job = run(client, {**row["request"], "duration": duration})
    assert job["status"] == "completed"
    # video_edit bills the source's length (a Setting, capped to 10 s), not `duration`.
    edited = row["request"].get("workflow") == "video_edit"
    seconds = Decimal(SPEC.setting_values()["video_input_seconds"]) if edited else Decimal(duration)
    expected = Decimal(row["usd_per_second"]) * seconds
    assert cost(job) == expected
    assert job["result"]["usage"]["billable_units"] == seconds
    assert balance(client) == START - expected


def test_default_kling_o3_job_costs_one_dollar_forty() -> None:
    """Decision 4 / C10: pro, sound on (the default) and 5 s at $0.280/s."""
    client = SimClient([SPEC])
    job = run(client, {"model": "kling-o3", "prompt": "A lighthouse at dusk"})
    assert cost(job) == Decimal("1.40")
    assert balance(client) == START - Decimal("1.40")


def test_default_turbo_job_costs_ninety_cents() -> None:
    client = SimClient([SPEC])
    assert cost(run(client, {"model": "kling-3-0-turbo", "prompt": "A lighthouse at dusk"})) == Decimal(
        "0.90"
    )


def test_reference_with_a_video_bills_the_video_input_rate_and_images_only_the_sound_rate() -> None:
    client = SimClient([SPEC])
    base = {"model": "kling-o3", "prompt": "A lighthouse at dusk", "model_tier": "standard", "duration": 4}
    with_video = run(client, {**base, "reference_videos": "https://example.com/ref.mp4"})
    images_only = run(
        client, {**base, "reference_images": "https://example.com/a.png,https://example.com/b.png"}
    )
    assert cost(with_video) == Decimal("0.252") * 4
    assert cost(images_only) == Decimal("0.224") * 4


def test_video_input_length_setting_is_capped_to_ten_seconds() -> None:
    client = SimClient([SPEC.with_settings({"video_input_seconds": 14})])
    job = run(client, {"model": "kling-o3", "prompt": "Make it snow", "video": "https://example.com/in.mp4"})
    assert cost(job) == Decimal("0.336") * 10
    assert job["result"]["data"][0]["duration_seconds"] == 10


@pytest.mark.parametrize(
    ("prompt", "duration", "seconds"),
    [
        ("A | B", 6, 6),  # unprefixed scenes share `duration`
        ("4s: A | 5s: B | 6s: C", 5, 15),  # prefixes set each scene; `duration` is unused
        ("2s: A\nB\nC", 6, 8),  # 2 + 6 shared by B and C
        ("2.5s: A | 2.5s: B", 5, 5),
    ],
)
def test_multi_scene_prompts_bill_the_total_seconds(prompt: str, duration: int, seconds: int) -> None:
    client = SimClient([SPEC])
    job = run(client, {"model": "kling-o3", "prompt": prompt, "duration": duration})
    assert cost(job) == Decimal("0.280") * seconds
    assert job["result"]["data"][0]["duration_seconds"] == seconds


def test_a_total_under_three_seconds_is_billed_three() -> None:
    client = SimClient([SPEC])
    job = run(client, {"model": "kling-o3", "prompt": "1s: A | 1s: B"})
    assert job["result"]["data"][0]["duration_seconds"] == 2
    assert cost(job) == Decimal("0.280") * 3


def test_price_is_held_at_create_and_captured_on_success() -> None:
    client = SimClient([SPEC])
    created = client.post(CREATE, headers=H, json={"model": "kling-o3", "prompt": "A lighthouse at dusk"})
    assert balance(client) == START - Decimal("1.40")
    kinds = [e.kind for e in client.sim.ledger.entries("empiriolabs", KEY)]
    assert kinds == ["topup", "hold"]
    client.advance(3600)
    client.get(f"/empiriolabs/v1/jobs/{created.json()['job_id']}", headers=H)
    assert [e.kind for e in client.sim.ledger.entries("empiriolabs", KEY)] == ["topup", "hold", "capture"]
    assert balance(client) == START - Decimal("1.40")
    assert client.sim.ledger.inconsistencies() == []


def test_a_failed_job_debits_nothing_and_its_usage_event_costs_zero() -> None:
    client = SimClient([SPEC])
    job = run(client, {"model": "kling-o3", "prompt": "A storm [klingsim:fail=upstream_error]"})
    assert job["status"] == "failed"
    assert job["result"] is None
    assert job["error"]["code"] == "upstream_error"
    assert balance(client) == START
    usage = client.get("/empiriolabs/v1/account/usage", headers=H).json()
    (event,) = usage["data"]
    assert event["status"] == "failed"
    assert event["cost"] == {"amount": 0, "currency": "USD"}
    assert event["metadata"]["list_cost"] == 1.4
    assert usage["balance"] == {"amount": float(START), "currency": "USD"}
    assert client.sim.ledger.inconsistencies() == []


def test_insufficient_credits_is_a_402_and_writes_nothing() -> None:
    client = SimClient([SPEC])
    client.sim.set_balance("empiriolabs", KEY, Decimal("1.39"))
    response = client.post(CREATE, headers=H, json={"model": "kling-o3", "prompt": "A lighthouse at dusk"})
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert balance(client) == Decimal("1.39")
    assert list(client.sim.engine.jobs()) == []
    client.sim.set_balance("empiriolabs", KEY, Decimal("1.40"))
    assert (
        client.post(CREATE, headers=H, json={"model": "kling-o3", "prompt": "A lighthouse"}).status_code
        == 200
    )
    assert balance(client) == 0


@pytest.mark.parametrize(("source_seconds", "billed"), [(8, 8), (12, 10)])
def test_video_edit_of_a_klingsim_output_bills_its_probed_length_capped_to_ten(
    source_seconds: int, billed: int
) -> None:
    """Seed 000: "Video inputs are capped to 10 seconds"; a klingsim output URL is probed for its length."""
    client = SimClient([SPEC])
    source = run(
        client,
        {"model": "kling-o3", "prompt": "A harbour", "model_tier": "standard", "duration": source_seconds},
    )
    url = source["result"]["data"][0]["url"]
    job = run(client, {"model": "kling-o3", "prompt": "Make it snow", "video": url})
    assert job["result"]["data"][0]["duration_seconds"] == billed
    assert cost(job) == Decimal("0.336") * billed
