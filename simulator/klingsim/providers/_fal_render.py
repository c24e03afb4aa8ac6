"""fal's queue answers: the submit receipt with absolute URLs, status words with their HTTP statuses, the
result `{"video": {...}}`, cancel answers and the webhook body.

Status URLs drop the model's subpath: a request to `fal-ai/kling-video/o3/standard/text-to-video` is polled
at `fal-ai/kling-video/requests/<id>/status` (https://docs.fal.ai/model-endpoints/queue).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from klingsim.spec import JobView, Phase

INFRASTRUCTURE = {
    "request_timeout": 504,
    "runner_scheduling_failure": 503,
    "runner_disconnected": 503,
    "internal_error": 500,
}


def app_of(model_id: str) -> str:
    """The app part of a model id: its first two segments (`fal-ai/kling-video`)."""
    return "/".join(model_id.split("/")[:2])


def request_url(base: str, job: JobView) -> str:
    return f"{base}/{app_of(job.variant)}/requests/{job.id}"


def receipt(job: JobView, base: str, webhook: bool) -> dict[str, Any]:
    url = request_url(base, job)
    body: dict[str, Any] = {
        "request_id": job.id,
        "response_url": url,
        "status_url": f"{url}/status",
        "cancel_url": f"{url}/cancel",
        "queue_position": 0,
        "status": job.status,
    }
    if webhook:
        body["gateway_request_id"] = job.id
    return body


def logs(job: JobView) -> list[dict[str, Any]]:
    """What the runner printed so far: a line when it started, one when it ended."""
    lines: list[dict[str, Any]] = []
    if job.started_at is not None:
        lines.append(_log("Starting video generation", job.started_at.isoformat()))
    if job.finished_at is not None:
        word = "failed" if job.phase is Phase.FAILED else "finished"
        lines.append(_log(f"Video generation {word}", job.finished_at.isoformat()))
    return lines


def _log(message: str, timestamp: str) -> dict[str, Any]:
    return {"message": message, "level": "INFO", "source": "stdout", "timestamp": timestamp}


def status(job: JobView, base: str, query: Mapping[str, str]) -> dict[str, Any]:
    with_logs = query.get("logs", "") in ("1", "true", "True")
    body: dict[str, Any] = {
        "status": job.status,
        "request_id": job.id,
        "response_url": request_url(base, job),
    }
    if job.phase is Phase.QUEUED:
        body["queue_position"] = 0
        return body
    body["logs"] = logs(job) if with_logs else None
    if job.phase in (Phase.SUCCEEDED, Phase.FAILED):
        started = job.started_at or job.created_at
        ended = job.finished_at or started
        body["metrics"] = {"inference_time": round((ended - started) / timedelta(seconds=1), 3)}
        body["error"] = error_detail(job) if job.phase is Phase.FAILED else None
    return body


def error_detail(job: JobView) -> str:
    return job.error_message or "Request failed"


def error_type(job: JobView) -> str:
    code = job.error_code or "internal_error"
    return code if code in INFRASTRUCTURE else "internal_error"


def result(job: JobView, sizes: tuple[int, ...]) -> dict[str, Any]:
    url = job.outputs[0]
    return {
        "video": {
            "url": url,
            "content_type": "video/mp4",
            "file_name": "output.mp4",
            "file_size": sizes[0] if sizes else 0,
        }
    }


def failure(job: JobView) -> dict[str, Any]:
    """The body a failed request answers on its result URL (and sends as its webhook's payload)."""
    return {"detail": error_detail(job), "error_type": error_type(job)}


def webhook(job: JobView, sizes: tuple[int, ...]) -> dict[str, Any]:
    ok = job.phase is Phase.SUCCEEDED
    return {
        "request_id": job.id,
        "gateway_request_id": job.id,
        "status": "OK" if ok else "ERROR",
        "payload": result(job, sizes) if ok else failure(job),
        "error": None if ok else error_detail(job),
    }
