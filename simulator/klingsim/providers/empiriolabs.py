"""EmpirioLabs: `kling-o3` (seed 000) and `kling-3-0-turbo` (seed 004) on `POST /v1/videos/generations`.

Each fact cites its seed line or public page; each gap filled is an inferred Setting with its reason.
Billing is in USD; a job's price is held at create, captured on success, released on failure.
"""

from __future__ import annotations

from decimal import Decimal

from klingsim.providers import _empiriolabs_plan as plan
from klingsim.providers import _empiriolabs_render as render
from klingsim.providers._empiriolabs_catalog import O3_SEED, RATES, TURBO_SEED, USAGE, USAGE_QUERY, VARIANTS
from klingsim.spec import (
    Action,
    AuthSpec,
    BodySpec,
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
    RateLimit,
    RenderTime,
    Setting,
    Settlement,
    UrlPolicy,
    inferred,
    public,
    seed,
)

DOCS = "https://docs.empiriolabs.ai"
RATE_LIMITS = f"{DOCS}/rate-limits-api-keys"
BILLING = f"{DOCS}/billing-credits"
O3 = plan.O3
TURBO = plan.TURBO
_CREATE_DOC = "Kling O3 runs through POST /v1/videos/generations. The request returns a job_id right away"

# ----------------------------------------------------------------------------------------------- errors
_GUESSED_STATUS = "its HTTP status is not"
ERRORS = (
    ErrorSpec(
        "invalid_request",
        400,
        "The request is invalid",
        inferred("validation errors are undocumented; an OpenAI-style invalid_request error"),
        type="invalid_request_error",
    ),
    ErrorSpec(
        "missing_api_key",
        401,
        "No API key was provided",
        public(RATE_LIMITS, "missing_api_key"),
        type="authentication_error",
    ),
    ErrorSpec(
        "invalid_api_key",
        401,
        "The API key is malformed, inactive, expired or not found",
        public(RATE_LIMITS, "invalid_api_key"),
        type="authentication_error",
    ),
    ErrorSpec(
        "insufficient_credits",
        402,
        "Insufficient credits; add more to continue",
        public(BILLING, "402 Payment Required / insufficient_credits"),
        type="invalid_request_error",
    ),
    ErrorSpec(
        "not_found",
        404,
        "Not found",
        public(f"{DOCS}/api-reference/api-reference/jobs/retrieve-job", "404 Not Found Error"),
        type="not_found_error",
    ),
    ErrorSpec(
        "model_not_found",
        404,
        "The model does not exist",
        inferred(f"model_not_found is documented; {_GUESSED_STATUS} (404, as OpenAI answers it)"),
        type="invalid_request_error",
    ),
    ErrorSpec(
        "method_not_allowed",
        405,
        "Method not allowed",
        inferred("undocumented; HTTP's status for it"),
        type="invalid_request_error",
    ),
    ErrorSpec(
        "request_too_large",
        413,
        "Request body too large",
        inferred("undocumented; HTTP's status for it"),
        type="invalid_request_error",
    ),
    ErrorSpec(
        "rate_limit_exceeded",
        429,
        "Rate limit exceeded; retry with exponential backoff",
        public(RATE_LIMITS, "50 RPM per account; exceeding it returns 429"),
        type="rate_limit_error",
        retry_after=60,
    ),
    ErrorSpec(
        "internal_error",
        500,
        "Internal server error",
        inferred("undocumented; HTTP's status for it"),
        type="api_error",
    ),
    ErrorSpec(
        "upstream_error",
        502,
        "The model provider returned an error",
        inferred(f"upstream_error is documented; {_GUESSED_STATUS} (502 Bad Gateway)"),
        type="api_error",
    ),
    ErrorSpec(
        "model_unavailable",
        503,
        "The model is unavailable; retry shortly",
        inferred(f"model_unavailable is documented ('Retry shortly'); {_GUESSED_STATUS} (503)"),
        type="api_error",
    ),
)
ALL_ERRORS = tuple(e.code for e in ERRORS)
_COMMON = (
    "missing_api_key",
    "invalid_api_key",
    "rate_limit_exceeded",
    "internal_error",
    "method_not_allowed",
)

# ----------------------------------------------------------------------------------------------- spec
SPEC = ProviderSpec(
    id="empiriolabs",
    title="EmpirioLabs (Kling O3, Kling 3.0 Turbo)",
    base_url="https://api.empiriolabs.ai",
    hosts=("api.empiriolabs.ai",),
    docs=(seed(O3_SEED, "Kling O3 API"), seed(TURBO_SEED, "kling-3-0-turbo"), public(DOCS)),
    models=(O3, TURBO),
    auth=AuthSpec(
        # `sk-empiriolabs-…` keys (public docs), and the seeds' placeholder so their examples run as written.
        key_pattern=r"sk-empiriolabs-[A-Za-z0-9_\-]{4,128}|YOUR_EMPIRIOLABS_API_KEY",
        example_key="sk-empiriolabs-0123456789abcdef",
        also_headers=("x-api-key",),
        doc=public(
            f"{DOCS}/authentication", "Authorization: Bearer sk-empiriolabs-…; x-api-key is also accepted"
        ),
    ),
    endpoints=(
        Endpoint(
            Action.CREATE,
            "POST",
            "/v1/videos/generations",
            seed(O3_SEED, _CREATE_DOC),
            "Submit a video generation job",
            body=BodySpec(VARIANTS, discriminator="model", unknown_variant_error="model_not_found"),
            response=render.CREATED,
            errors=(
                "invalid_request",
                "insufficient_credits",
                "model_not_found",
                "request_too_large",
                *_COMMON,
            ),
        ),
        Endpoint(
            Action.STATUS,
            "GET",
            "/v1/jobs/{job_id}",
            seed(
                O3_SEED,
                "poll GET /v1/jobs/{job_id} until the job completes and read the output URLs from the result",
            ),
            "Retrieve a job",
            id_param="job_id",
            errors=("not_found", *_COMMON),
            response=render.JOB,
        ),
        Endpoint(
            Action.USAGE,
            "GET",
            "/v1/account/usage",
            public(USAGE, "returns the balance and usage events"),
            "Account balance and usage events",
            query=USAGE_QUERY,
            errors=("invalid_request", *_COMMON),
            response=render.USAGE_LIST,
        ),
        Endpoint(
            Action.MODELS,
            "GET",
            "/v1/models",
            public(f"{DOCS}/authentication", "GET /v1/models"),
            "List models",
            errors=_COMMON,
            response=render.MODEL_LIST,
        ),
    ),
    errors=ERRORS,
    envelope=Envelope(
        {"error": {"code": "$code", "message": "$message", "type": "$type", "param": "$param"}},
        inferred(
            "the error body is undocumented; the platform advertises OpenAI compatibility and names error "
            "codes, so the OpenAI envelope {error: {code, message, type, param}}"
        ),
    ),
    roles={
        ErrorRole.MISSING_KEY: "missing_api_key",
        ErrorRole.INVALID_KEY: "invalid_api_key",
        ErrorRole.MALFORMED_BODY: "invalid_request",
        ErrorRole.VALIDATION: "invalid_request",
        ErrorRole.BODY_TOO_LARGE: "request_too_large",
        ErrorRole.NOT_FOUND: "not_found",
        ErrorRole.ROUTE_NOT_FOUND: "not_found",
        ErrorRole.METHOD_NOT_ALLOWED: "method_not_allowed",
        ErrorRole.INSUFFICIENT_FUNDS: "insufficient_credits",
        ErrorRole.RATE_LIMITED: "rate_limit_exceeded",
        ErrorRole.INTERNAL: "internal_error",
        ErrorRole.UNKNOWN_MODEL: "model_not_found",
    },
    lifecycle=Lifecycle(
        words={
            Phase.QUEUED: "queued",
            Phase.RUNNING: "running",
            Phase.SUCCEEDED: "completed",
            Phase.FAILED: "failed",
        },
        render=RenderTime(
            queued=(2, 10),
            base=(30, 60),
            per_output_second=(6, 12),
            factors=(
                ({"model_tier": "4k"}, 2.5),  # seed 000: "4k: highest fidelity, longest render."
                ({"model": TURBO, "resolution": "1080p"}, 0.6),  # seed 004: "720p renders faster"
                ({"model": TURBO}, 0.45),
                ({"model_tier": "standard"}, 0.8),
            ),
            doc=inferred(
                "render times are undocumented; a few minutes per job, 4k longest and turbo fastest as "
                "the pages say"
            ),
        ),
        doc=inferred(
            "only the terminal words are known (the seeds' clients stop on 'completed' or 'failed'); "
            "queued and running are the usual words of job APIs"
        ),
    ),
    prices=PriceTable(
        unit="USD",
        rates=RATES,
        settlement=Settlement.HOLD_THEN_CAPTURE,
        refund_on_failure=True,
        places=4,
        default_balance=Decimal(50),
        doc=inferred(
            "the billing page says each request debits the balance by the model's price; what a failed job "
            "costs is unstated, so the price is held at create, captured on success, released on failure"
        ),
    ),
    urls=UrlPolicy(
        lifetime_seconds=24 * 3600,
        expired_status=403,
        expired_body={
            "error": {
                "code": "url_expired",
                "message": "Request has expired",
                "type": "invalid_request_error",
                "param": None,
            }
        },
        doc=inferred(
            "output URL lifetime is undocumented; a 24 h presigned URL that answers 403 once expired"
        ),
    ),
    ids=IdFormat(
        templates={"default": "job_{alnum:24}"},
        pattern=r"job_[a-z0-9]{24}",
        doc=inferred("the job id format is undocumented; job_ and 24 lowercase letters and digits"),
    ),
    hooks=Hooks(
        plan=plan.plan,
        normalize=plan.normalize,
        derive=plan.derive,
        render_created=render.render_created,
        render_job=render.render_job,
        render_usage=render.render_usage,
        render_models=render.render_models,
    ),
    rate_limit=RateLimit(
        50,
        60,
        scope="account",
        doc=public(RATE_LIMITS, "50 RPM per account; all keys on the account share them"),
    ),
    settings=(
        Setting(
            "status_word_succeeded",
            "completed",
            inferred(
                "the seeds' clients stop only on 'completed' (else they loop forever); the vendor blog says "
                "'succeeded'"
            ),
        ),
        Setting(
            "create_success_status",
            200,
            inferred(
                "the create status is undocumented; 200 (a public client accepts only 200); 202 possible"
            ),
        ),
        Setting(
            "default_balance",
            50,
            inferred("balances are undocumented; $50 runs ~35 default jobs so examples work out of the box"),
        ),
        Setting(
            "output_url_lifetime_seconds",
            24 * 3600,
            inferred("output URL lifetime is undocumented; 24 h presigned URLs are common"),
        ),
        Setting(
            "minimum_billed_seconds",
            3,
            inferred(
                "rounding is undocumented; the output seconds are billed, at least 3 (the model minimum)"
            ),
        ),
        Setting("max_scenes", 6, seed(O3_SEED, "Up to 6 scenes.")),
        Setting(
            "max_total_seconds",
            15,
            inferred("a multi-scene video may last at most the model's 15 s ('3 to 15')"),
        ),
        Setting(
            "min_scene_seconds", 1, inferred("a scene shorter than 1 s can't be rendered, so it is refused")
        ),
        Setting(
            "video_input_cap_seconds",
            10,
            seed(
                O3_SEED, "Video inputs are capped to 10 seconds for video-edit and video-reference workflows."
            ),
        ),
        Setting(
            "video_input_seconds",
            5,
            inferred(
                "video_edit bills the source's length (capped to 10 s); sources can't be probed, so 5 s"
            ),
        ),
        Setting(
            "auto_workflow_order",
            ("video_edit", "reference", "i2v", "t2v"),
            inferred("'auto: detect from inputs' gives no precedence; the richest input decides"),
        ),
        Setting(
            "max_reference_images",
            7,
            inferred("the reference list limit is undocumented; 7 images, the upstream Kling O3 limit"),
        ),
        Setting(
            "max_reference_videos",
            1,
            inferred("the reference list limit is undocumented; 1 video, the upstream Kling O3 limit"),
        ),
        Setting("usage_page_size", 20, inferred("the usage API's default limit is undocumented")),
    ),
)

__all__ = ["SPEC"]
