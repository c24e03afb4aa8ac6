"""Kling's answers: the `{code, message, request_id, data}` envelope and the flat task object.

Times are epoch milliseconds (integers); `final_unit_deduction` is a string of units ("0" once refunded);
`task_result.videos[].duration` is the output's seconds as a string with one decimal.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from klingsim.spec import AccountView, JobView, Phase

DAY_MS = 24 * 3600 * 1000


def epoch_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def units(amount: Decimal) -> str:
    """A unit count as Kling writes it: "1", "1.75", "0"."""
    text = format(amount.normalize(), "f")
    return "0" if Decimal(text) == 0 else text


def request_id(*parts: object) -> str:
    """A UUID for the answer, derived from what it answers (hooks are pure: no random source here)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "kling:" + ":".join(str(p) for p in parts)))


def envelope(data: Any, rid: str) -> dict[str, Any]:
    return {"code": 0, "message": "SUCCEED", "request_id": rid, "data": data}


def _updated(job: JobView) -> datetime:
    return job.finished_at or job.started_at or job.created_at


def task_info(job: JobView) -> dict[str, Any]:
    external = job.request.get("external_task_id")
    return {"external_task_id": external} if external else {}


def created(job: JobView) -> dict[str, Any]:
    data = {
        "task_id": job.id,
        "task_status": job.status,
        "task_info": task_info(job),
        "created_at": epoch_ms(job.created_at),
        "updated_at": epoch_ms(_updated(job)),
    }
    return envelope(data, request_id(job.id, "create"))


def task(job: JobView) -> dict[str, Any]:
    """The task object of a query, a list and a callback."""
    watermark = job.request.get("watermark_info") or {}
    enabled = bool(watermark.get("enabled")) if isinstance(watermark, Mapping) else False
    failed = job.phase is Phase.FAILED
    data: dict[str, Any] = {
        "task_id": job.id,
        "task_status": job.status,
        "task_status_msg": (job.error_message or "failed") if failed else "",
        "task_info": task_info(job),
        "watermark_info": {"enabled": enabled},
        "final_unit_deduction": "0" if failed else units(job.cost),
        "created_at": epoch_ms(job.created_at),
        "updated_at": epoch_ms(_updated(job)),
    }
    if job.phase is Phase.SUCCEEDED:
        data["task_result"] = {"videos": [_video(job, url, enabled) for url in job.outputs]}
    return data


def _video(job: JobView, url: str, watermark: bool) -> dict[str, Any]:
    video: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"kling-video:{job.id}:{url.partition('?')[0]}")),
        "url": url,
        "duration": f"{job.plan.output.seconds:.1f}",
    }
    if watermark:
        video["watermark_url"] = url + ("&" if "?" in url else "?") + "watermark=1"
    return video


def query(job: JobView) -> dict[str, Any]:
    return envelope(task(job), request_id(job.id, job.status, epoch_ms(_updated(job))))


def listing(jobs: Sequence[JobView], page: int, size: int) -> dict[str, Any]:
    """The account's tasks of one kind, newest first, as a bare array."""
    newest = sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)
    chosen = newest[(page - 1) * size : page * size]
    return envelope([task(j) for j in chosen], request_id("list", page, size, *(j.id for j in chosen)))


def costs(account: AccountView, pack_days: int) -> dict[str, Any]:
    """One `decreasing_total` resource pack: the last balance set on the account, and what is left of it."""
    sets = [e for e in account.entries if e["kind"] in ("topup", "adjust")]
    total = Decimal(str(sets[-1]["balance_after"])) if sets else account.balance
    bought = round(float(sets[-1]["at"]) * 1000) if sets else 0
    remaining = account.balance
    pack = {
        "resource_pack_name": "Video Generation - klingsim pack",
        "resource_pack_id": request_id("pack", account.key, bought),
        "resource_pack_type": "decreasing_total",
        "total_quantity": float(total),
        "remaining_quantity": float(remaining),
        "purchase_time": bought,
        "effective_time": bought,
        "invalid_time": bought + pack_days * DAY_MS,
        "status": "online" if remaining > 0 else "runOut",
    }
    data = {"code": 0, "msg": "", "resource_pack_subscribe_infos": [pack]}
    return envelope(data, request_id("costs", account.key, remaining))
