"""EmpirioLabs response shapes: create answer, job object, usage events, models (public API reference)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from klingsim.providers._format import iso_z, number
from klingsim.spec import AccountView, JobView, Phase, Unit, Violation
from klingsim.spec import shapes as s

# What the renderers below answer.
COST = s.obj(s.req("amount", s.number(unit=Unit.MONEY)), s.req("currency", s.string(enum=("USD",))))
JOB_ERROR = s.obj(s.req("code", s.string(unit=Unit.ERROR_CODE)), s.req("message", s.string()), nullable=True)
CREATED = s.obj(
    s.req("job_id", s.string(unit=Unit.JOB_ID)),
    s.req("status", s.string(unit=Unit.STATUS)),
    s.req("poll_url", s.string()),
    s.req("model", s.string()),
    s.req("created_at", s.string(unit=Unit.ISO_8601)),
)
JOB = s.obj(
    s.req("job_id", s.string(unit=Unit.JOB_ID)),
    s.req("status", s.string(unit=Unit.STATUS)),
    s.req("progress", s.number(unit=Unit.FRACTION)),
    s.req("created_at", s.string(unit=Unit.ISO_8601)),
    s.req("completed_at", s.string(unit=Unit.ISO_8601, nullable=True)),
    s.req(
        "result",
        s.obj(
            s.req(
                "data",
                s.array(
                    s.obj(
                        s.req("url", s.string(unit=Unit.URL)),
                        s.req("content_type", s.string()),
                        s.req("duration_seconds", s.number(unit=Unit.SECONDS)),
                    )
                ),
            ),
            s.req(
                "usage",
                s.obj(
                    s.req("billable_units", s.number(unit=Unit.SECONDS)),
                    s.req("billing_unit", s.string(enum=("second",))),
                    s.req("cost", COST),
                ),
            ),
            nullable=True,
        ),
    ),
    s.req("error", JOB_ERROR),
)
USAGE_EVENT = s.obj(
    s.req("id", s.string()),
    s.req("object", s.string(enum=("usage_event",))),
    s.req("created_at", s.string(unit=Unit.ISO_8601)),
    s.req("source", s.string()),
    s.req("model", s.string()),
    s.req("endpoint", s.string()),
    s.req("job_id", s.string(unit=Unit.JOB_ID)),
    s.req("tokens", s.obj(*(s.req(k, s.integer()) for k in ("input", "output", "cached", "total")))),
    s.req("cost", COST),
    s.req("status", s.string(unit=Unit.STATUS)),
    s.req("status_code", s.integer()),
    s.req("error", JOB_ERROR),
    s.req("output_urls", s.array(s.string(unit=Unit.URL))),
    s.req(
        "metadata",
        s.obj(
            s.req("tool_usage", s.anything("null")),
            s.req("list_cost", s.number(unit=Unit.MONEY)),
            s.req("billed_cost", s.number(unit=Unit.MONEY)),
            s.req("discount_amount", s.number(unit=Unit.MONEY)),
        ),
    ),
)
USAGE_LIST = s.obj(
    s.req("object", s.string(enum=("list",))),
    s.req("balance", COST),
    s.req("data", s.array(USAGE_EVENT)),
    s.req("has_more", s.boolean()),
    s.req("next_cursor", s.string(nullable=True)),
)
MODEL_LIST = s.obj(
    s.req("object", s.string(enum=("list",))),
    s.req(
        "data",
        s.array(
            s.obj(
                s.req("id", s.string()),
                s.req("object", s.string(enum=("model",))),
                s.req("owned_by", s.string()),
                s.req("description", s.string()),
                s.req("endpoints", s.array(s.string())),
            )
        ),
    ),
)

CREATE_PATH = "/v1/videos/generations"
USAGE_LIMIT_MAX = 100


def _cost(amount: Decimal) -> dict[str, Any]:
    return {"amount": number(amount), "currency": "USD"}


def billed(job: JobView) -> Decimal:
    """Money the job takes from the balance: nothing once it failed (the hold is released)."""
    return Decimal(0) if job.phase is Phase.FAILED else job.cost


def render_created(job: JobView) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "status": job.status,
        "poll_url": f"/v1/jobs/{job.id}",
        "model": job.variant,
        "created_at": iso_z(job.created_at),
    }


def _result(job: JobView) -> dict[str, Any] | None:
    if job.phase is not Phase.SUCCEEDED:
        return None
    seconds = job.plan.output.seconds
    return {
        "data": [
            {"url": url, "content_type": "video/mp4", "duration_seconds": number(Decimal(str(seconds)))}
            for url in job.outputs
        ],
        "usage": {
            "billable_units": number(Decimal(str(job.plan.billed_seconds))),
            "billing_unit": "second",
            "cost": _cost(job.cost),
        },
    }


def _error(job: JobView) -> dict[str, Any] | None:
    if job.phase is not Phase.FAILED:
        return None
    return {"code": job.error_code or "upstream_error", "message": job.error_message or "Generation failed"}


def render_job(job: JobView) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "status": job.status,
        "progress": round(job.progress, 4),
        "created_at": iso_z(job.created_at),
        "completed_at": iso_z(job.finished_at),
        "result": _result(job),
        "error": _error(job),
    }


def usage_event(job: JobView) -> dict[str, Any]:
    cost = billed(job)
    return {
        "id": "ue_" + job.id.removeprefix("job_"),
        "object": "usage_event",
        "created_at": iso_z(job.created_at),
        "source": "api",
        "model": job.variant,
        "endpoint": CREATE_PATH,
        "job_id": job.id,
        "tokens": {"input": 0, "output": 0, "cached": 0, "total": 0},
        "cost": _cost(cost),
        "status": job.status,
        "status_code": 200,
        "error": _error(job),
        "output_urls": list(job.outputs),
        "metadata": {
            "tool_usage": None,
            "list_cost": number(job.cost),
            "billed_cost": number(cost),
            "discount_amount": 0,
        },
    }


def _moment(query: Mapping[str, str], name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        if raw.isdigit():
            return datetime.fromtimestamp(int(raw), tz=UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise Violation("invalid_request", f"{name} must be an ISO-8601 time or Unix seconds", name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _limit(query: Mapping[str, str], default: int) -> int:
    raw = query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= USAGE_LIMIT_MAX:
        raise Violation("invalid_request", f"limit must be an integer from 1 to {USAGE_LIMIT_MAX}", "limit")
    return int(raw)


def render_usage(account: AccountView, query: Mapping[str, str]) -> dict[str, Any]:
    """The balance and the newest usage events first, filtered as the usage API's query parameters say."""
    limit = _limit(query, int(account.settings["usage_page_size"]))
    start, end = _moment(query, "from"), _moment(query, "to")
    jobs = sorted(account.jobs, key=lambda j: (j.created_at, j.id), reverse=True)
    before = query.get("before")
    if before:
        ids = [usage_event(j)["id"] for j in jobs]
        jobs = jobs[ids.index(before) + 1 :] if before in ids else []
    events = [
        usage_event(j)
        for j in jobs
        if (not query.get("model") or j.variant == query["model"])
        and (not query.get("source") or query["source"] == "api")
        and (start is None or j.created_at >= start)
        and (end is None or j.created_at < end)
    ]
    if query.get("status"):
        events = [e for e in events if e["status"] == query["status"]]
    page = events[:limit]
    return {
        "object": "list",
        "balance": _cost(account.balance),
        "data": page,
        "has_more": len(events) > limit,
        "next_cursor": page[-1]["id"] if len(events) > limit else None,
    }


MODELS = (
    ("kling-o3", "Kling O3: text, image, reference and video-edit workflows; standard, pro and 4k tiers"),
    ("kling-3-0-turbo", "Kling 3.0 Turbo: text- and image-to-video with native audio at 720p or 1080p"),
)


def render_models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {
                "id": model,
                "object": "model",
                "owned_by": "kling-ai",
                "description": text,
                "endpoints": [CREATE_PATH],
            }
            for model, text in MODELS
        ],
    }
