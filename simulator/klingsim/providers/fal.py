"""fal.ai's queue (queue.fal.run) and synchronous host (fal.run) for its twelve Kling endpoints
(upstream contract, section 2): `Key` auth, the model id in the path, and separate status, result and cancel
URLs under the app (`fal-ai/kling-video/requests/<id>`).

fal's validation errors are FastAPI's own 422 `{"detail": [{loc, msg, type}]}`: here, and only here, that body
is the provider's documented format.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from klingsim.providers import _fal_models as models
from klingsim.providers import _fal_render as render
from klingsim.providers import _fal_shapes as shapes
from klingsim.spec import (
    Action,
    AuthFailure,
    AuthSpec,
    BodySpec,
    CallbackPolicy,
    Concurrency,
    DocRef,
    Endpoint,
    Envelope,
    ErrorRole,
    ErrorSpec,
    Hooks,
    IdFormat,
    JobView,
    Lifecycle,
    OutputPlan,
    Param,
    ParamType,
    Phase,
    Plan,
    PriceTable,
    ProviderSpec,
    RenderTime,
    Setting,
    Settlement,
    TokenScheme,
    UrlPolicy,
    inferred,
    public,
)

QUEUE = "https://docs.fal.ai/model-endpoints/queue"
STATUS_PAGE = "https://fal.ai/docs/inference-api/queue/status"
CANCEL_PAGE = "https://fal.ai/docs/inference-api/queue/cancel"
ERRORS_PAGE = "https://docs.fal.ai/errors"
WEBHOOKS = "https://docs.fal.ai/model-endpoints/webhooks"
RELIABILITY = "https://docs.fal.ai/model-apis/model-endpoints/reliability"
APP = models.APP


def queue(quote: str) -> DocRef:
    return public(QUEUE, quote)


DETAIL = {"detail": "$message"}
INFRA = {"detail": "$message", "error_type": "$code"}


def _infra(code: str, status: int, message: str) -> ErrorSpec:
    return ErrorSpec(
        code,
        status,
        message,
        public(ERRORS_PAGE, f"{code}: {status}; body {{detail, error_type}}, header X-Fal-Error-Type"),
        envelope=INFRA,
        headers={"X-Fal-Error-Type": "$code"},
    )


ERRORS = (
    ErrorSpec(
        "validation_error",
        422,
        "Validation error",
        public(ERRORS_PAGE, '422 {"detail": [{"loc": ["body", "<field>"], "msg": "...", "type": "..."}]}'),
        type="value_error",
    ),
    ErrorSpec("unauthorized", 401, "Unauthorized", queue("Authorization: Key $FAL_KEY"), envelope=DETAIL),
    ErrorSpec(
        "exhausted_balance",
        403,
        "User is locked. Reason: Exhausted balance.",
        inferred("the docs are silent; the answer commonly reported for an exhausted balance"),
        envelope={"detail": "User is locked. Reason: Exhausted balance."},
    ),
    ErrorSpec(
        "not_found",
        404,
        "Request not found",
        public(STATUS_PAGE, "unknown request id"),
        envelope={"detail": "Request not found"},
    ),
    ErrorSpec(
        "application_not_found",
        404,
        "Application not found",
        inferred("an unknown model id: fal answers 404; the wording is inferred"),
        envelope=DETAIL,
    ),
    ErrorSpec(
        "cancel_not_found",
        404,
        "NOT_FOUND",
        public(CANCEL_PAGE, '404 {"status": "NOT_FOUND"}'),
        envelope={"status": "NOT_FOUND"},
    ),
    ErrorSpec(
        "already_completed",
        400,
        "ALREADY_COMPLETED",
        public(CANCEL_PAGE, '400 {"status": "ALREADY_COMPLETED"}'),
        envelope={"status": "ALREADY_COMPLETED"},
    ),
    ErrorSpec(
        "too_many_requests",
        429,
        "Too many concurrent requests",
        inferred("over the concurrency limit fal answers 429; the wording and Retry-After are inferred"),
        envelope=DETAIL,
        retry_after=10,
    ),
    ErrorSpec(
        "method_not_allowed",
        405,
        "Method Not Allowed",
        inferred("fal's gateway is FastAPI: its 405 body"),
        envelope=DETAIL,
    ),
    ErrorSpec(
        "payload_too_large",
        413,
        "Request body too large",
        inferred("no size limit is documented; HTTP's status with a detail body"),
        envelope=DETAIL,
    ),
    _infra("request_timeout", 504, "Request timed out"),
    _infra("runner_scheduling_failure", 503, "The runner could not be scheduled"),
    _infra("runner_disconnected", 503, "The runner disconnected"),
    _infra("internal_error", 500, "Internal error"),
)


def _seconds(group: str, body: dict[str, Any], settings: Mapping[str, Any]) -> float:
    if group != "edit":
        return float(body["duration"])
    # An edit lasts (and bills) its source: probed when it is a klingsim output, else the setting.
    probed = settings.get("input_seconds", {}).get("video_url")
    return float(probed if probed is not None else settings["video_edit_output_seconds"])


def _plan(variant: str, body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
    _, group, tier = models.MODELS[variant]
    seconds = _seconds(group, body, settings)
    audio = bool(body.get("generate_audio", False)) or (group == "edit" and bool(body.get("keep_audio")))
    key = {"tier": tier, "audio": audio, "voices": bool(body.get("voice_ids"))}
    lines = 2160 if tier == "v3-4k" else 1080 if "pro" in tier or tier == "o3-edit" else 720
    return Plan(
        price_key=key,
        billed_seconds=seconds,
        output=OutputPlan(str(body.get("aspect_ratio", "16:9")), lines, seconds, audio),
    )


def _billable(job: JobView) -> dict[str, str]:
    return {"x-fal-billable-units": f"{job.plan.billed_seconds:g}"}


PATH = "/{model_id:path}"
REQUEST = f"/{APP}/requests/{{request_id}}"
VARIANTS = models.variants()


def _submit(job: JobView) -> dict[str, Any]:
    return render.receipt(job, job.base_url, bool(job.request.get("fal_webhook")))


def _status(job: JobView) -> dict[str, Any]:
    return render.status(job, job.base_url, job.query)


def _result(job: JobView) -> dict[str, Any]:
    return render.result(job, job.output_bytes)


WEBHOOK_PARAM = Param(
    "fal_webhook",
    ParamType.STRING,
    public(WEBHOOKS, "?fal_webhook=<url>: the URL called when the request completes"),
)


ENDPOINTS = (
    Endpoint(
        Action.STATUS,
        "GET",
        f"{REQUEST}/status",
        public(STATUS_PAGE, "GET /{app}/requests/{request_id}/status: 202 until COMPLETED, then 200"),
        "A request's status",
        name="status",
        id_param="request_id",
        pending_status=202,
        errors=("unauthorized", "not_found"),
        response=shapes.STATUS,
    ),
    Endpoint(
        Action.CANCEL,
        "PUT",
        f"{REQUEST}/cancel",
        public(CANCEL_PAGE, 'PUT .../cancel: 202 {"status": "CANCELLATION_REQUESTED"}'),
        "Cancel a request",
        name="cancel",
        id_param="request_id",
        success_status=202,
        roles={ErrorRole.NOT_FOUND: "cancel_not_found", ErrorRole.ALREADY_FINISHED: "already_completed"},
        cancellable=frozenset({Phase.QUEUED, Phase.RUNNING}),
        cancel_error=("cancelled", "Request was cancelled"),
        errors=("unauthorized", "cancel_not_found", "already_completed"),
        response=shapes.CANCEL,
    ),
    Endpoint(
        Action.RESULT,
        "GET",
        REQUEST,
        queue("GET /{app}/requests/{request_id}: the result once completed"),
        "A request's result",
        name="result",
        id_param="request_id",
        pending_status=202,
        headers=_billable,
        errors=("unauthorized", "not_found", "request_timeout", "internal_error"),
        response=shapes.RESULT,
    ),
    Endpoint(
        Action.CREATE,
        "POST",
        PATH,
        queue("POST https://queue.fal.run/{model_id}: submit a request to the queue"),
        "Submit a request to the queue",
        name="submit",
        body=BodySpec(VARIANTS, discriminator="model_id", discriminator_in="path"),
        query=(WEBHOOK_PARAM,),
        render=_submit,
        response=shapes.RECEIPT,
        errors=(
            "validation_error",
            "unauthorized",
            "exhausted_balance",
            "application_not_found",
            "too_many_requests",
        ),
    ),
    Endpoint(
        Action.CREATE,
        "POST",
        f"/run{PATH}",
        queue("POST https://fal.run/{model_id}: the synchronous endpoint answers the result"),
        "Run a model and answer its result (fal.run)",
        name="run",
        body=BodySpec(VARIANTS, discriminator="model_id", discriminator_in="path"),
        wait=True,
        render=_result,
        response=shapes.RESULT,
        headers=_billable,
        errors=("validation_error", "unauthorized", "exhausted_balance", "application_not_found"),
    ),
)

SPEC = ProviderSpec(
    id="fal",
    title="fal.ai queue (Kling video models)",
    base_url="https://queue.fal.run",
    hosts=("queue.fal.run", "fal.run/run"),
    docs=(queue("fal queue API"),),
    models=tuple(models.MODELS),
    auth=AuthSpec(
        key_pattern=r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-f]{32}",
        example_key="0b7d6c1e-5f0a-4c8e-9f3b-2a1d4e6c8b90:3f9a2c7e1b5d4a8f9c0e6b2d7a1f5c3e",
        doc=queue("Authorization: Key $FAL_KEY (key shape <uuid>:<32 hex> inferred from the dashboard)"),
        schemes=(TokenScheme(prefix="Key"),),
        errors=dict.fromkeys(AuthFailure, "unauthorized"),
    ),
    endpoints=ENDPOINTS,
    errors=ERRORS,
    envelope=Envelope(
        {"detail": [{"loc": ["body", "$param"], "msg": "$message", "type": "$type"}]},
        public(ERRORS_PAGE, "validation errors: 422 with FastAPI's detail list"),
    ),
    roles={
        ErrorRole.MISSING_KEY: "unauthorized",
        ErrorRole.INVALID_KEY: "unauthorized",
        ErrorRole.MALFORMED_BODY: "validation_error",
        ErrorRole.VALIDATION: "validation_error",
        ErrorRole.BODY_TOO_LARGE: "payload_too_large",
        ErrorRole.NOT_FOUND: "not_found",
        ErrorRole.ROUTE_NOT_FOUND: "application_not_found",
        ErrorRole.METHOD_NOT_ALLOWED: "method_not_allowed",
        ErrorRole.INSUFFICIENT_FUNDS: "exhausted_balance",
        ErrorRole.RATE_LIMITED: "too_many_requests",
        ErrorRole.INTERNAL: "internal_error",
        ErrorRole.UNKNOWN_MODEL: "application_not_found",
        ErrorRole.ALREADY_FINISHED: "already_completed",
        ErrorRole.TOO_MANY_JOBS: "too_many_requests",
    },
    lifecycle=Lifecycle(
        words={
            Phase.QUEUED: "IN_QUEUE",
            Phase.RUNNING: "IN_PROGRESS",
            Phase.SUCCEEDED: "COMPLETED",
            Phase.FAILED: "COMPLETED",
        },
        render=RenderTime(
            queued=(1, 5),
            base=(20, 40),
            per_output_second=(3, 6),
            doc=inferred(
                "render times are undocumented; at least 1 s in the queue so a status at submit sees IN_QUEUE"
            ),
        ),
        doc=public(
            STATUS_PAGE, "IN_QUEUE, IN_PROGRESS, COMPLETED (a failed request is COMPLETED with error)"
        ),
    ),
    prices=PriceTable(
        unit="USD",
        rates=models.RATES,
        settlement=Settlement.HOLD_THEN_CAPTURE,
        refund_on_failure=True,
        places=4,
        default_balance=Decimal(10),
        doc=public(RELIABILITY, "you are not billed for requests that fail with server errors"),
    ),
    urls=UrlPolicy(
        lifetime_seconds=7 * 24 * 3600,
        expired_status=404,
        expired_body={"detail": "File not found"},
        doc=inferred("fal's media lifetime is not documented; 7 days (configurable), then 404"),
    ),
    ids=IdFormat(
        templates={"default": "{hex:8}-{hex:4}-4{hex:3}-a{hex:3}-{hex:12}"},
        pattern=r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        doc=queue('"request_id": "764cabcf-b745-4b3e-ae38-1200304cf45b" (a UUID)'),
    ),
    hooks=Hooks(
        plan=_plan,
        render_created=_submit,
        render_job=_status,
        render_result=_result,
        render_cancel=lambda job: {"status": "CANCELLATION_REQUESTED"},
        render_callback=lambda job: render.webhook(job, job.output_bytes),
    ),
    callbacks=CallbackPolicy(
        field="fal_webhook",
        doc=public(WEBHOOKS, "?fal_webhook=<url>; up to 10 retries within 2 hours"),
        timeout_seconds=15.0,
        retry_delays=(10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1500.0, 2400.0),
        error="validation_error",
    ),
    concurrency=Concurrency(
        10,
        inferred("fal's per-key concurrency depends on the account; 10 unfinished requests"),
        error="too_many_requests",
        setting="max_concurrent_requests",
    ),
    settings=(
        Setting(
            "max_concurrent_requests",
            10,
            inferred("fal's per-key concurrency depends on the account; 10 unfinished requests"),
        ),
        Setting("default_balance", 10, inferred("a new key starts with $10")),
        Setting(
            "video_edit_output_seconds",
            5,
            inferred("an edit lasts its source's length; 5 s when the source can't be probed"),
        ),
    ),
)

__all__ = ["SPEC"]
