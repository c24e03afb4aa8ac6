"""EvoLink: the Kling O3 models behind `POST /v1/videos/generations`, polled at `GET /v1/tasks/{task_id}`
(seed 001, with EvoLink's public API pages for the sibling models, the task query and the credits)."""

from __future__ import annotations

from decimal import Decimal

from klingsim.providers._evolink_hooks import CREDITS_ANSWER, TASK, plan, render_balance, render_job
from klingsim.providers._evolink_models import INVALID, MODELS, SEED
from klingsim.providers._evolink_prices import RATES
from klingsim.providers._evolink_rules import VARIANTS
from klingsim.spec import (
    Action,
    AuthSpec,
    BodySpec,
    CallbackPolicy,
    DocRef,
    Endpoint,
    Envelope,
    ErrorRole,
    ErrorSpec,
    Hooks,
    IdFormat,
    Lifecycle,
    Phase,
    PriceTable,
    ProviderSpec,
    RenderTime,
    Setting,
    Settlement,
    UrlPolicy,
    inferred,
    public,
    seed,
)

TASKS = "https://docs.evolink.ai/en/api-manual/task-management/get-task-detail"
CREDITS = "https://docs.evolink.ai/en/api-manual/account-management/get-credits"
ERRORS_3P = "https://seedance2api.app/docs/error-codes"
V3_T2V = "https://docs.evolink.ai/en/api-manual/video-series/kling/kling-v3-text-to-video"


def _err(
    code: str, status: int, kind: str, message: str, doc: DocRef, retry_after: int | None = None
) -> ErrorSpec:
    return ErrorSpec(code, status, message, doc, type=kind, retry_after=retry_after)


ERRORS = (
    _err(
        INVALID,
        400,
        INVALID,
        "Invalid request",
        public(ERRORS_3P, '"code":400,"type":"invalid_request_error"'),
    ),
    ErrorSpec(
        "invalid_task_id",
        400,
        "Invalid task ID format, must start with 'task-unified-'",
        public(
            TASKS, "code: invalid_task_id message: Invalid task ID format, must start with 'task-unified-'"
        ),
        type=INVALID,
        # The one documented error whose code is a string, not the HTTP status (task-detail page example).
        envelope={"error": {"code": "$code", "message": "$message", "type": "$type", "param": "$param"}},
    ),
    _err(
        "authentication_error",
        401,
        "authentication_error",
        "Invalid or missing API key",
        public(ERRORS_3P, "401 authentication_error"),
    ),
    _err(
        "insufficient_quota_error",
        402,
        "insufficient_quota_error",
        "Insufficient credits",
        public(ERRORS_3P, "402 insufficient_quota_error (insufficient credits)"),
    ),
    _err(
        "permission_error",
        403,
        "permission_error",
        "Permission denied",
        public(ERRORS_3P, "403 permission_error"),
    ),
    _err("not_found_error", 404, "not_found_error", "Not found", public(ERRORS_3P, "404 not_found_error")),
    _err(
        "method_not_allowed",
        405,
        INVALID,
        "Method not allowed",
        inferred("no page documents a wrong method; HTTP's 405 with the validation error type"),
    ),
    _err(
        "request_too_large_error",
        413,
        "request_too_large_error",
        "Request body too large",
        public(ERRORS_3P, "413 request_too_large_error"),
    ),
    _err(
        "rate_limit_error",
        429,
        "rate_limit_error",
        "Rate limit exceeded",
        inferred(
            "the limits are undocumented; Retry-After 60 follows the documented hint 'retry after 60 seconds'"
        ),
        retry_after=60,
    ),
    _err(
        "internal_server_error",
        500,
        "internal_server_error",
        "Internal server error",
        public(ERRORS_3P, "500 internal_server_error"),
    ),
    _err(
        "upstream_error",
        502,
        "upstream_error",
        "Upstream provider error",
        public(ERRORS_3P, "502 upstream_error"),
    ),
    _err(
        "service_unavailable_error",
        503,
        "service_unavailable_error",
        "Service temporarily unavailable",
        public(ERRORS_3P, '503 service_unavailable_error ("retry after 30 seconds")'),
        retry_after=30,
    ),
)

CREATE_ERRORS = (
    INVALID,
    "authentication_error",
    "insufficient_quota_error",
    "request_too_large_error",
    "rate_limit_error",
    "internal_server_error",
    "upstream_error",
    "service_unavailable_error",
)
STATUS_ERRORS = (
    "invalid_task_id",
    "authentication_error",
    "not_found_error",
    "rate_limit_error",
    "internal_server_error",
)

SPEC = ProviderSpec(
    id="evolink",
    title="EvoLink (Kling O3)",
    base_url="https://api.evolink.ai",
    hosts=("api.evolink.ai",),
    docs=(
        seed(SEED, "Kling O3 API"),
        public(TASKS),
        public(CREDITS),
        public("https://docs.evolink.ai/en/api-manual/video-series/kling/kling-o3-text-to-video"),
    ),
    models=MODELS,
    auth=AuthSpec(
        key_pattern=r"sk-evo-[A-Za-z0-9_\-]{8,128}",
        example_key="sk-evo-0123456789abcdef",
        doc=public("https://docs.evolink.ai/de/quickstart", "Authorization: Bearer sk-evo-xxxxxxxxxx"),
    ),
    endpoints=(
        Endpoint(
            Action.CREATE,
            "POST",
            "/v1/videos/generations",
            seed(SEED, "Bearer YOUR_API_KEY/v1/videos/generationsCreate Video"),
            "Create a video generation task",
            body=BodySpec(VARIANTS, discriminator="model", unknown_variant_error=INVALID),
            errors=CREATE_ERRORS,
            response=TASK,
        ),
        Endpoint(
            Action.STATUS,
            "GET",
            "/v1/tasks/{task_id}",
            public(TASKS, "GET /v1/tasks/{task_id} Query Task Status"),
            "Query a task's status, progress and results",
            id_param="task_id",
            errors=STATUS_ERRORS,
            response=TASK,
        ),
        Endpoint(
            Action.BALANCE,
            "GET",
            "/v1/credits",
            public(CREDITS, "GET /v1/credits"),
            "The account's remaining and used credits",
            errors=("authentication_error", "rate_limit_error", "internal_server_error"),
            response=CREDITS_ANSWER,
        ),
    ),
    errors=ERRORS,
    envelope=Envelope(
        {"error": {"code": "$status", "message": "$message", "type": "$type", "param": "$param"}},
        public(
            ERRORS_3P,
            '{"error":{"code":400,"message":"Invalid request","type":"invalid_request_error",'
            '"param":"prompt"}}',
        ),
        optional=frozenset({"param"}),
    ),
    roles={
        ErrorRole.MISSING_KEY: "authentication_error",
        ErrorRole.INVALID_KEY: "authentication_error",
        ErrorRole.MALFORMED_BODY: INVALID,
        ErrorRole.VALIDATION: INVALID,
        ErrorRole.BODY_TOO_LARGE: "request_too_large_error",
        ErrorRole.NOT_FOUND: "not_found_error",
        ErrorRole.ROUTE_NOT_FOUND: "not_found_error",
        ErrorRole.METHOD_NOT_ALLOWED: "method_not_allowed",
        ErrorRole.INSUFFICIENT_FUNDS: "insufficient_quota_error",
        ErrorRole.RATE_LIMITED: "rate_limit_error",
        ErrorRole.INTERNAL: "internal_server_error",
        ErrorRole.UNKNOWN_MODEL: INVALID,
    },
    lifecycle=Lifecycle(
        words={
            Phase.QUEUED: "pending",
            Phase.RUNNING: "processing",
            Phase.SUCCEEDED: "completed",
            Phase.FAILED: "failed",
        },
        render=RenderTime(
            queued=(2, 10),
            base=(60, 120),
            per_output_second=(8, 16),
            factors=(({"quality": "1080p"}, 1.3),),
            doc=inferred(
                "render times are undocumented; the create answer's estimated_time of 300 s puts a "
                "5 s job at a few minutes"
            ),
        ),
        doc=public(TASKS, "status: pending, processing, completed, failed"),
    ),
    prices=PriceTable(
        unit="credits",
        rates=RATES,
        settlement=Settlement.HOLD_THEN_CAPTURE,
        refund_on_failure=True,
        base_per_second=Decimal("5.4"),
        minimum_seconds=3,
        places=4,
        default_balance=Decimal(1000),
        doc=seed(
            SEED,
            "Total = price/second × duration; Base price: 5.4 credits per second; Minimum billing: 3 seconds",
        ),
    ),
    urls=UrlPolicy(
        lifetime_seconds=24 * 3600,
        expired_status=403,
        expired_body={
            "error": {"code": 403, "message": "The video link has expired", "type": "permission_error"}
        },
        doc=inferred(
            "the 24 h lifetime is the seed's ('Generated video links are valid for 24 hours'); what "
            "an expired link answers is undocumented: 403, as expired presigned CDN URLs do"
        ),
    ),
    ids=IdFormat(
        templates={"default": "task-unified-{unix}-{alnum:8}"},
        # The documented rule is the prefix only; any other id after it is unknown (404), not malformed.
        pattern=r"task-unified-.+",
        doc=public(TASKS, "example: task-unified-1756817821-4x3rx6ny; must start with 'task-unified-'"),
        malformed_error="invalid_task_id",
    ),
    hooks=Hooks(plan=plan, render_created=render_job, render_job=render_job, render_balance=render_balance),
    callbacks=CallbackPolicy(
        field="callback_url",
        doc=seed(
            SEED,
            "Triggered on completion, failure, or cancellation - HTTPS only, no internal IPs - Max "
            "length: 2048 chars - Timeout: 10s, Max 3 retries",
        ),
        https_only=True,
        refuse_private=True,
        max_length=2048,
        timeout_seconds=10.0,
        retry_delays=(1.0, 2.0, 4.0),
        error=INVALID,
    ),
    settings=(
        Setting(
            "malformed_id_error",
            "invalid_task_id",
            public(TASKS, "Invalid task ID format, must start with 'task-unified-'"),
        ),
        Setting(
            "output_url_lifetime_seconds",
            24 * 3600,
            seed(SEED, "Generated video links are valid for 24 hours, please save them promptly."),
        ),
        Setting(
            "estimated_time_seconds",
            300,
            public(
                TASKS.replace("task-management/get-task-detail", "video-series/kling/kling-o3-text-to-video"),
                '"task_info": {"can_cancel": true, "estimated_time": 300',
            ),
            "task_info.estimated_time in every task answer",
        ),
        Setting(
            "credits_reserved_scale",
            10_000,
            inferred(
                "usage.credits_reserved is 270000 for a 5 s job at 5.4 credits/s (27 credits), and the "
                "video-edit page prices in 81,000 UC/second, so the field counts 1/10000 credits"
            ),
        ),
        Setting("user_group", "default", public(V3_T2V, '"user_group": "default"')),
        Setting(
            "default_balance",
            1000,
            inferred("balances are undocumented; 1000 credits run ~37 default 5 s jobs, so examples work"),
        ),
        Setting(
            "refund_failed_jobs",
            True,
            inferred(
                "the reservation is released when a task fails or is cancelled (reserve-then-confirm "
                "wording; the callback follows 'billing confirmation')"
            ),
        ),
        Setting(
            "reject_unknown_references",
            True,
            inferred(
                "a prompt naming <<<element_N>>> (or image_N / video_N) beyond what the request "
                "supplies can't be rendered; 400 invalid_request_error, param prompt"
            ),
        ),
        Setting(
            "default_failure_code",
            "unknown_error",
            public(
                "https://github.com/EvoLinkAI/evolink-media-mcp",
                "failed-task error codes (error-handler.ts): … unknown_error (retryable)",
            ),
            "error.code of a task failed on the control plane without a code",
        ),
        Setting(
            "client_failure_codes",
            (
                "content_policy_violation",
                "invalid_parameters",
                "image_dimension_mismatch",
                "image_processing_error",
                "request_cancelled",
            ),
            inferred(
                "a failed task's error.type is undocumented; the codes EvoLink's clients treat as not "
                "retryable get invalid_request_error, the others internal_server_error"
            ),
        ),
        Setting(
            "video_edit_input_seconds",
            5,
            inferred("video edit bills the source video's seconds, which the simulator doesn't fetch; 5 s"),
        ),
        Setting(
            "unprobed_aspect_ratio",
            "16:9",
            inferred(
                "image-to-video and video-edit follow their inputs' shape, which the simulator doesn't "
                "fetch; outputs are 16:9"
            ),
        ),
    ),
)

__all__ = ["SPEC"]
