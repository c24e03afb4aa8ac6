"""EvoLink's hooks: what a request costs and produces, and the task and credits answers."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from klingsim.providers._evolink_models import EDIT, INVALID, REF
from klingsim.spec import AccountView, JobView, OutputPlan, Phase, Plan, Unit
from klingsim.spec import shapes as s

# What the renderers below answer (the task object of the create and the query, and the credits).
TASK = s.obj(
    s.req("created", s.integer(unit=Unit.EPOCH_S)),
    s.req("id", s.string(unit=Unit.JOB_ID)),
    s.req("model", s.string()),
    s.req("object", s.string()),
    s.req("progress", s.integer(unit=Unit.PERCENT)),
    s.req("status", s.string(unit=Unit.STATUS)),
    s.opt("results", s.array(s.string(unit=Unit.URL))),
    s.req(
        "task_info",
        s.obj(
            s.req("can_cancel", s.boolean()),
            s.opt("estimated_time", s.integer(unit=Unit.SECONDS)),
            s.opt("video_duration", s.integer(unit=Unit.SECONDS)),
        ),
    ),
    s.req("type", s.string()),
    s.opt(
        "usage",
        s.obj(
            s.req("billing_rule", s.string(enum=("per_call", "per_second"))),
            s.req("credits_reserved", s.integer(minimum=0)),
            s.req("user_group", s.string()),
        ),
    ),
    s.opt(
        "error",
        s.obj(
            s.req("code", s.string(unit=Unit.ERROR_CODE)),
            s.req("message", s.string()),
            s.req("type", s.string()),
        ),
    ),
)
_CREDITS = (
    s.req("remaining_credits", s.number(unit=Unit.MONEY)),
    s.req("used_credits", s.number(unit=Unit.MONEY)),
)
CREDITS_ANSWER = s.obj(
    s.req(
        "data",
        s.obj(
            s.req("token", s.obj(*_CREDITS, s.req("unlimited_credits", s.boolean()))),
            s.req("user", s.obj(*_CREDITS)),
        ),
    ),
    s.req("message", s.string()),
    s.req("success", s.boolean()),
)


def plan(model: str, body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
    # Only a klingsim output can be probed; other URLs are never fetched, so their length is trusted.
    probed: float | None = settings.get("input_seconds", {}).get("video_url")
    if model == EDIT:
        seconds = probed if probed is not None else float(settings["video_edit_input_seconds"])
    else:
        seconds = float(body["duration"])
    if model in (REF, EDIT):
        audio = bool(body.get("keep_original_sound")) and bool(body.get("video_url"))
        sound = "off"
    else:
        audio = body["sound"] == "on"
        sound = body["sound"]
    aspect = body.get("aspect_ratio") or settings["unprobed_aspect_ratio"]
    lines = 1080 if body["quality"] == "1080p" else 720
    rule = "per_call" if model == EDIT else "per_second"
    return Plan(
        price_key={"model": model, "quality": body["quality"], "sound": sound},
        billed_seconds=seconds,
        output=OutputPlan(aspect, lines, seconds, audio),
        extra={"billing_rule": rule},
    )


def _progress(job: JobView) -> int:
    if job.phase is Phase.SUCCEEDED:
        return 100
    if job.phase is Phase.FAILED:
        return 0  # the failure callback example carries progress 0
    return int(job.progress * 100)


def render_job(job: JobView) -> dict[str, Any]:
    settings = job.settings
    task: dict[str, Any] = {
        "created": int(job.created_at.timestamp()),
        "id": job.id,
        "model": job.variant,
        "object": "video.generation.task",
        "progress": _progress(job),
        "status": job.status,
    }
    if job.phase is Phase.SUCCEEDED:
        task["results"] = list(job.outputs)
    task["task_info"] = {
        "can_cancel": job.phase is Phase.QUEUED,
        "estimated_time": settings["estimated_time_seconds"],
        "video_duration": int(job.plan.output.seconds),
    }
    task["type"] = "video"
    task["usage"] = {
        "billing_rule": job.plan.extra["billing_rule"],
        "credits_reserved": int(job.cost * Decimal(settings["credits_reserved_scale"])),
        "user_group": settings["user_group"],
    }
    if job.phase is Phase.FAILED:
        code = job.error_code or "unknown_error"
        task["error"] = {
            "code": code,
            "message": job.error_message or "Generation failed",
            "type": INVALID if code in settings["client_failure_codes"] else "internal_server_error",
        }
    return task


def _credits(amount: Decimal) -> float:
    return float(amount.quantize(Decimal("0.0001")))


def render_balance(account: AccountView) -> dict[str, Any]:
    # One simulated key is one user, so the token and user views of the balance agree.
    remaining, used = _credits(account.balance), _credits(account.spent)
    return {
        "data": {
            "token": {"remaining_credits": remaining, "unlimited_credits": False, "used_credits": used},
            "user": {"remaining_credits": remaining, "used_credits": used},
        },
        "message": "",
        "success": True,
    }
