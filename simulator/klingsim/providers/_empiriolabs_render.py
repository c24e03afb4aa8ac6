"""EmpirioLabs response shapes: create answer, job object, usage events, models (providers.md 1.4, 1.6)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from klingsim.providers._format import iso_z, number
from klingsim.spec import AccountView, JobView, Phase, Violation

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
