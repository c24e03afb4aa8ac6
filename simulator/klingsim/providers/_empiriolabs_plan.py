"""EmpirioLabs request planning: multi-scene prompts, workflow detection, price keys and output plans.

Sources: seed 000 (kling-o3) and seed 004 (kling-3-0-turbo); every guessed number is a Setting of the
provider's spec. The rules between fields are declared as constraints in _empiriolabs_catalog.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from klingsim.spec import OutputPlan, Plan

O3 = "kling-o3"
TURBO = "kling-3-0-turbo"
INVALID = "invalid_request"

# Seed 000: "pipe (|) or newline-separated prompts, optionally prefixed with duration like '5s: scene text'".
_SEPARATORS = re.compile(r"[|\r\n]")
_PREFIX = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s\s*:\s*", re.IGNORECASE)
TIER_LINES = {"standard": 720, "pro": 1080, "4k": 2160}
WORKFLOW_INPUTS = {
    "video_edit": ("video",),
    "reference": ("reference_images", "reference_videos"),
    "i2v": ("image",),
    "t2v": (),
}


@dataclass(frozen=True, slots=True)
class Scene:
    text: str
    seconds: Decimal
    prefixed: bool


def _present(value: Any) -> bool:
    return value is not None and value not in ("", [])


def parse_scenes(prompt: str, duration: Decimal) -> tuple[Scene, ...]:
    """The prompt's scenes with their seconds: `Ns:` sets a scene; unprefixed scenes share `duration`
    (the page calls duration "per-scene" yet allows "up to 6 scenes" in a 3-15 s model)."""
    raw = [part for part in _SEPARATORS.split(prompt) if part.strip()]
    fixed: list[tuple[str, Decimal | None]] = []
    for part in raw:
        found = _PREFIX.match(part)
        text = part[found.end() :].strip() if found else part.strip()
        fixed.append((text, Decimal(found.group(1)) if found else None))
    unprefixed = sum(1 for _, seconds in fixed if seconds is None)
    share = duration / unprefixed if unprefixed else Decimal(0)
    return tuple(Scene(text, share if s is None else s, s is not None) for text, s in fixed)


def scene_total(scenes: tuple[Scene, ...], duration: Decimal) -> Decimal:
    """Total seconds of a multi-scene prompt."""
    prefixed = sum((s.seconds for s in scenes if s.prefixed), Decimal(0))
    # The unprefixed scenes share `duration` exactly, so add it once rather than summing rounded shares.
    return prefixed + (duration if any(not s.prefixed for s in scenes) else Decimal(0))


def split_list(body: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A comma-separated URL list (seed 000) as items."""
    value = body.get(name)
    if not _present(value):
        return ()
    return tuple(item.strip() for item in str(value).split(","))


def detect_workflow(body: Mapping[str, Any], order: tuple[str, ...]) -> str:
    """`auto`: the first workflow in `order` whose inputs the request carries (t2v when none)."""
    for workflow in order:
        inputs = WORKFLOW_INPUTS[workflow]
        if not inputs or any(_present(body.get(name)) for name in inputs):
            return workflow
    return "t2v"


def _number(value: Any) -> Decimal:
    return Decimal(str(value))


def derive(variant: str, body: dict[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """What the O3 constraints and plan read: the resolved workflow, the scenes and their total seconds."""
    if variant != O3:
        return {}
    workflow: str = body["workflow"]
    if workflow == "auto":
        workflow = detect_workflow(body, tuple(settings["auto_workflow_order"]))
    duration = _number(body["duration"])
    scenes = parse_scenes(body["prompt"], duration)
    return {"workflow": workflow, "scenes": scenes, "scene_total": scene_total(scenes, duration)}


def plan_o3(body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
    tier: str = body["model_tier"]
    derived = settings.get("derived") or derive(O3, body, settings)
    workflow: str = derived["workflow"]
    references = split_list(body, "reference_images")
    ref_videos = split_list(body, "reference_videos")
    video_input = workflow == "video_edit" or (workflow == "reference" and bool(ref_videos))
    if workflow == "video_edit":
        # The source sets the length, capped to 10 s (seed 000): probed when it is a klingsim output (the
        # engine's `input_seconds`), else the `video_input_seconds` Setting, as other URLs are never fetched.
        probed = settings.get("input_seconds", {}).get("video")
        source = _number(probed) if probed is not None else _number(settings["video_input_seconds"])
        seconds = min(source, _number(settings["video_input_cap_seconds"]))
    else:
        seconds = derived["scene_total"]
    sound = bool(body["sound"])
    if tier == "4k":
        key: dict[str, Any] = {"model": O3, "model_tier": "4k"}
    elif video_input:
        key = {"model": O3, "model_tier": tier, "input": "video"}
    else:
        key = {"model": O3, "model_tier": tier, "input": "text_image", "sound": sound}
    audio = sound or (workflow == "video_edit" and bool(body["keep_original_sound"]))
    return Plan(
        price_key=key,
        billed_seconds=float(max(seconds, _number(settings["minimum_billed_seconds"]))),
        output=OutputPlan(body["aspect_ratio"], TIER_LINES[tier], float(seconds), audio),
        extra={
            "workflow": workflow,
            "scenes": len(derived["scenes"]),
            "reference_images": len(references),
            "reference_videos": len(ref_videos),
        },
    )


def plan_turbo(body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
    seconds = _number(body["duration"])
    resolution: str = body["resolution"]
    workflow = "i2v" if _present(body.get("image")) else "t2v"
    return Plan(
        price_key={"model": TURBO, "resolution": resolution},
        billed_seconds=float(max(seconds, _number(settings["minimum_billed_seconds"]))),
        # Seed 004: "Native audio is generated automatically", so audio is always on.
        output=OutputPlan(body["aspect_ratio"], int(resolution.removesuffix("p")), float(seconds), True),
        extra={"workflow": workflow},
    )


def plan(variant: str, body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
    return plan_o3(body, settings) if variant == O3 else plan_turbo(body, settings)


def normalize(body: dict[str, Any]) -> dict[str, Any]:
    """The reference lists are comma-separated strings on the page; arrays of strings (what the other
    providers take) are accepted and joined."""
    out = body
    for name in ("reference_images", "reference_videos"):
        value = body.get(name)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            out = {**out, name: ",".join(value)}
    return out
