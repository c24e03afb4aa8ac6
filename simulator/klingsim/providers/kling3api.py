"""kling3api.com: Kling 3.0 and Kling O3 behind `/api/generate` and `/api/status` (seed 003)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from klingsim.providers._format import iso_z, number
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
    JobView,
    Lifecycle,
    OutputPlan,
    Param,
    ParamType,
    Phase,
    Plan,
    PriceTable,
    ProviderSpec,
    Rate,
    RenderTime,
    RequiredWhen,
    Setting,
    Settlement,
    Unit,
    UrlPolicy,
    Variant,
    When,
    inferred,
    seed,
)
from klingsim.spec import shapes as s

SEED = "003_1ace3cef13878ba3.txt"

KLING3_TYPES = ("pro-text-to-video", "pro-image-to-video", "std-text-to-video", "std-image-to-video")
O3_TYPES = (
    "o3-pro-text-to-video",
    "o3-pro-image-to-video",
    "o3-pro-reference-to-video",
    "o3-pro-video-edit",
    "o3-std-text-to-video",
    "o3-std-image-to-video",
    "o3-std-reference-to-video",
    "o3-std-video-edit",
)
TYPES = KLING3_TYPES + O3_TYPES
ASPECT_RATIOS = ("16:9", "9:16", "1:1")


def _per_second(task: str, credits: int, quote: str, sound: bool | None = None) -> Rate:
    match: dict[str, Any] = {"type": task} if sound is None else {"type": task, "sound": sound}
    return Rate(match=match, per_second=Decimal(credits), doc=seed(SEED, quote), label=f"{task} {credits}/s")


_K3 = "| 54/s (no audio) · 80/s (with audio) |"
_STD = "| 40/s (no audio) · 60/s (with audio) |"
RATES = (
    _per_second("pro-text-to-video", 80, f"pro-text-to-video {_K3}", sound=True),
    _per_second("pro-text-to-video", 54, f"pro-text-to-video {_K3}", sound=False),
    _per_second("pro-image-to-video", 80, f"pro-image-to-video {_K3}", sound=True),
    _per_second("pro-image-to-video", 54, f"pro-image-to-video {_K3}", sound=False),
    _per_second("std-text-to-video", 60, f"std-text-to-video {_STD}", sound=True),
    _per_second("std-text-to-video", 40, f"std-text-to-video {_STD}", sound=False),
    _per_second("std-image-to-video", 60, f"std-image-to-video {_STD}", sound=True),
    _per_second("std-image-to-video", 40, f"std-image-to-video {_STD}", sound=False),
    _per_second("o3-pro-text-to-video", 48, "o3-pro-text-to-video | O3 Pro text-to-video | 3-15s | 48/s |"),
    _per_second(
        "o3-pro-image-to-video", 48, "o3-pro-image-to-video | O3 Pro image-to-video | 3-15s | 48/s |"
    ),
    _per_second("o3-pro-reference-to-video", 72, "o3-pro-reference-to-video | ... | 3-15s | 72/s |"),
    Rate(
        match={"type": "o3-pro-video-edit"},
        fixed=Decimal(435),
        label="o3-pro-video-edit 435 fixed",
        doc=seed(SEED, "o3-pro-video-edit | O3 Pro video editing | auto | 435 fixed |"),
    ),
    _per_second(
        "o3-std-text-to-video", 36, "o3-std-text-to-video | O3 Standard text-to-video | 3-15s | 36/s |"
    ),
    _per_second(
        "o3-std-image-to-video", 36, "o3-std-image-to-video | O3 Standard image-to-video | 3-15s | 36/s |"
    ),
    # 20/s is cheaper than O3 std text-to-video, unlike the pro row; kept exactly as the seed writes it.
    _per_second("o3-std-reference-to-video", 20, "o3-std-reference-to-video | ... | 3-15s | 20/s |"),
    Rate(
        match={"type": "o3-std-video-edit"},
        fixed=Decimal(360),
        label="o3-std-video-edit 360 fixed",
        doc=seed(SEED, "o3-std-video-edit | O3 Standard video editing | auto | 360 fixed |"),
    ),
)

PARAMS = (
    Param(
        "type",
        ParamType.STRING,
        seed(SEED, "Task type (e.g., pro-text-to-video, o3-pro-reference-to-video)"),
        required=True,
        enum=TYPES,
        error="INVALID_TYPE",
        example="pro-text-to-video",
    ),
    Param(
        "prompt",
        ParamType.STRING,
        seed(SEED, "Text description of the video to generate (max 2000 chars)"),
        required=True,
        min_length=1,
        max_length=2000,
        error="INVALID_PROMPT",
        example="A cinematic shot of mountains at sunrise",
    ),
    Param(
        "duration",
        ParamType.INTEGER,
        seed(SEED, "Video duration in seconds. Kling 3.0: 3-15. O3: 3-15. Defaults to 5."),
        default=5,
        minimum=3,
        maximum=15,
        error="INVALID_DURATION",
    ),
    Param(
        "aspect_ratio",
        ParamType.STRING,
        seed(SEED, "Output aspect ratio (16:9, 9:16, 1:1) Defaults to 16:9."),
        default="16:9",
        enum=ASPECT_RATIOS,
    ),
    # No min_length on media fields: an empty one counts as missing, so the MISSING_* rules answer it.
    Param("image", ParamType.STRING, seed(SEED, "Image URL for image-to-video tasks"), format="image-url"),
    Param(
        "end_image",
        ParamType.STRING,
        inferred("the seed lists 'End frame image URL (image-to-video only)' without its field name"),
        format="image-url",
    ),
    Param(
        "video",
        ParamType.STRING,
        seed(SEED, "Video URL for reference-to-video or video-edit tasks"),
        format="video-url",
    ),
    Param(
        "images",
        ParamType.ARRAY,
        seed(SEED, "Array of reference image URLs (O3 reference-to-video, max 7)"),
        max_items=7,
        items=Param(
            "images[]", ParamType.STRING, seed(SEED, "reference image URL"), min_length=1, format="image-url"
        ),
    ),
    Param(
        "sound",
        ParamType.BOOLEAN,
        seed(SEED, "Enable native audio generation Defaults to true."),
        default=True,
    ),
    Param("negative_prompt", ParamType.STRING, seed(SEED, "Negative prompt to avoid certain elements")),
    Param(
        "cfg_scale",
        ParamType.NUMBER,
        inferred(
            "the seed lists 'Prompt adherence (0-1, Kling 3.0 only) Defaults to 0.5.' without its field "
            "name; cfg_scale is the upstream Kling name"
        ),
        default=0.5,
        minimum=0,
        maximum=1,
    ),
    Param(
        "keep_original_sound",
        ParamType.BOOLEAN,
        seed(SEED, '"keep_original_sound": true (Video Edit example)'),
    ),
)

RULES = (
    RequiredWhen(
        ("image",),
        When("type", suffixes=("-image-to-video",)),
        "MISSING_IMAGE",
        seed(SEED, "MISSING_IMAGE | Image is required for image-to-video tasks"),
    ),
    RequiredWhen(
        ("video",),
        When("type", suffixes=("-video-edit",)),
        "MISSING_VIDEO",
        seed(SEED, "MISSING_VIDEO | Video is required for video-edit tasks"),
    ),
    RequiredWhen(
        ("images", "video"),
        When("type", suffixes=("-reference-to-video",)),
        "MISSING_IMAGE",
        inferred(
            "reference-to-video needs reference images or a video; MISSING_IMAGE is the nearest "
            "documented code"
        ),
        message="images or video is required for reference-to-video tasks",
    ),
)

ERRORS = (
    ErrorSpec(
        "INVALID_PROMPT",
        400,
        "The prompt is invalid or empty",
        seed(SEED, "400 Bad Request | INVALID_PROMPT"),
    ),
    ErrorSpec(
        "INVALID_DURATION",
        400,
        "Duration out of supported range",
        seed(SEED, "400 Bad Request | INVALID_DURATION"),
    ),
    ErrorSpec("INVALID_TYPE", 400, "Unsupported task type", seed(SEED, "400 Bad Request | INVALID_TYPE")),
    ErrorSpec(
        "MISSING_IMAGE",
        400,
        "Image is required for image-to-video tasks",
        seed(SEED, "400 Bad Request | MISSING_IMAGE"),
    ),
    ErrorSpec(
        "MISSING_VIDEO",
        400,
        "Video is required for video-edit tasks",
        seed(SEED, "400 Bad Request | MISSING_VIDEO"),
    ),
    ErrorSpec(
        "INVALID_API_KEY",
        401,
        "API key is missing or invalid",
        seed(SEED, "401 Unauthorized | INVALID_API_KEY"),
    ),
    ErrorSpec(
        "INSUFFICIENT_CREDITS",
        402,
        "Not enough credits for this operation",
        seed(SEED, "402 | INSUFFICIENT_CREDITS"),
    ),
    ErrorSpec(
        "RATE_LIMITED",
        429,
        "Too many requests, please slow down",
        seed(SEED, "429 Too Many Requests | RATE_LIMITED"),
        retry_after=60,
    ),
    ErrorSpec(
        "INTERNAL_ERROR",
        500,
        "Server error, please try again later",
        seed(SEED, "500 Internal Server Error | INTERNAL_ERROR"),
    ),
    ErrorSpec(
        "INVALID_REQUEST",
        400,
        "The request is invalid",
        inferred("no documented code covers other invalid fields or a body that is not JSON"),
    ),
    ErrorSpec(
        "NOT_FOUND",
        404,
        "Not found",
        inferred(
            "unknown task ids are undocumented; a public client treats code 404 on /api/status as "
            "'key valid, task unknown'"
        ),
    ),
    ErrorSpec(
        "METHOD_NOT_ALLOWED", 405, "Method not allowed", inferred("undocumented; HTTP's status for it")
    ),
    ErrorSpec(
        "PAYLOAD_TOO_LARGE", 413, "Request body too large", inferred("undocumented; HTTP's status for it")
    ),
)


def _plan(variant: str, body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
    task: str = body["type"]
    pro = task.startswith(("pro-", "o3-pro-"))
    edit = task.endswith("-video-edit")
    # An edit's length is "auto": the source's, when the engine could probe it (a klingsim output).
    source = settings.get("input_seconds", {}).get("video", settings["video_edit_output_seconds"])
    seconds = float(source) if edit else float(body["duration"])
    audio = bool(body["sound"]) or bool(body.get("keep_original_sound"))
    key = {"type": task, "sound": body["sound"]} if task in KLING3_TYPES else {"type": task}
    return Plan(
        price_key=key,
        billed_seconds=seconds,
        output=OutputPlan(body["aspect_ratio"], 1080 if pro else 720, seconds, audio),
        id_family="o3" if task.startswith("o3-") else "kling3",
    )


def _normalize(body: dict[str, Any]) -> dict[str, Any]:
    # Video edit durations are "auto" and the price is fixed (seed table), so a sent duration is ignored.
    task = body.get("type")
    if isinstance(task, str) and task.endswith("-video-edit") and "duration" in body:
        return {k: v for k, v in body.items() if k != "duration"}
    return body


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {"code": 200, "message": "success", "data": data}


def _render_created(job: JobView) -> dict[str, Any]:
    return _envelope({"task_id": job.id, "status": job.status, "consumed_credits": number(job.cost)})


ECHOED = ("type", "prompt", "duration", "aspect_ratio", "image", "end_image", "video", "images")


def _render_job(job: JobView) -> dict[str, Any]:
    request = {k: job.request[k] for k in ECHOED if k in job.request}
    return _envelope(
        {
            "task_id": job.id,
            "status": job.status,
            "consumed_credits": number(job.cost),
            "created_at": iso_z(job.created_at),
            "request": request,
            "response": list(job.outputs),
            "error_message": job.error_message if job.phase is Phase.FAILED else None,
            "type": job.variant if job.variant != "default" else job.request["type"],
        }
    )


def _answer(data: s.Shape) -> s.Shape:
    return s.obj(s.req("code", s.integer(enum=(200,))), s.req("message", s.string()), s.req("data", data))


_TASK = (
    s.req("task_id", s.string(unit=Unit.JOB_ID)),
    s.req("status", s.string(unit=Unit.STATUS)),
    s.req("consumed_credits", s.number(unit=Unit.MONEY, minimum=0)),
)
CREATED = _answer(s.obj(*_TASK))
TASK = _answer(
    s.obj(
        *_TASK,
        s.req("created_at", s.string(unit=Unit.ISO_8601)),
        s.req("request", s.anything("the create request's documented fields, as sent")),
        s.req("response", s.array(s.string(unit=Unit.URL), description="output URLs once SUCCESS")),
        s.req("error_message", s.string(nullable=True)),
        s.req("type", s.string(enum=TYPES)),
    )
)


SPEC = ProviderSpec(
    id="kling3api",
    title="kling3api.com (Kling 3.0 and Kling O3)",
    base_url="https://kling3api.com",
    hosts=("kling3api.com",),
    docs=(seed(SEED, "Kling 3.0 API Documentation"),),
    models=TYPES,
    auth=AuthSpec(
        key_pattern=r"[A-Za-z0-9_\-]{8,128}",
        example_key="k3a_live_0123456789abcdef",
        doc=seed(SEED, "Authorization: Bearer YOUR_API_KEY"),
    ),
    endpoints=(
        Endpoint(
            Action.CREATE,
            "POST",
            "/api/generate",
            seed(SEED, "/api/generateCreate a new video generation task."),
            "Create a video generation task",
            body=BodySpec(variants=(Variant("default", PARAMS, seed(SEED, "Request Body"), rules=RULES),)),
            response=CREATED,
            errors=(
                "INVALID_PROMPT",
                "INVALID_DURATION",
                "INVALID_TYPE",
                "MISSING_IMAGE",
                "MISSING_VIDEO",
                "INVALID_REQUEST",
                "INVALID_API_KEY",
                "INSUFFICIENT_CREDITS",
                "RATE_LIMITED",
                "INTERNAL_ERROR",
                "PAYLOAD_TOO_LARGE",
            ),
        ),
        Endpoint(
            Action.STATUS,
            "GET",
            "/api/status",
            seed(SEED, "/api/statusCheck the status of a video generation task."),
            "Get a task's status",
            id_param="task_id",
            id_in="query",
            query=(
                Param(
                    "task_id",
                    ParamType.STRING,
                    seed(SEED, "The unique task ID returned from generate endpoint"),
                    required=True,
                ),
            ),
            errors=("INVALID_REQUEST", "INVALID_API_KEY", "NOT_FOUND", "RATE_LIMITED", "INTERNAL_ERROR"),
            response=TASK,
        ),
    ),
    errors=ERRORS,
    envelope=Envelope(
        {"code": "$status", "message": "$message", "error": "$code", "data": None},
        inferred(
            "errors mirror the documented success envelope {code, message, data}, with the error code "
            "of the seed's table in `error`"
        ),
    ),
    roles={
        ErrorRole.MISSING_KEY: "INVALID_API_KEY",
        ErrorRole.INVALID_KEY: "INVALID_API_KEY",
        ErrorRole.MALFORMED_BODY: "INVALID_REQUEST",
        ErrorRole.VALIDATION: "INVALID_REQUEST",
        ErrorRole.BODY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
        ErrorRole.NOT_FOUND: "NOT_FOUND",
        ErrorRole.ROUTE_NOT_FOUND: "NOT_FOUND",
        ErrorRole.METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
        ErrorRole.INSUFFICIENT_FUNDS: "INSUFFICIENT_CREDITS",
        ErrorRole.RATE_LIMITED: "RATE_LIMITED",
        ErrorRole.INTERNAL: "INTERNAL_ERROR",
        ErrorRole.UNKNOWN_MODEL: "INVALID_TYPE",
    },
    lifecycle=Lifecycle(
        words={
            Phase.QUEUED: "IN_PROGRESS",
            Phase.RUNNING: "IN_PROGRESS",
            Phase.SUCCEEDED: "SUCCESS",
            Phase.FAILED: "FAILED",
        },
        render=RenderTime(
            queued=(1, 5),
            base=(20, 40),
            per_output_second=(4, 8),
            factors=(({"type": "pro-text-to-video"}, 1.3), ({"type": "pro-image-to-video"}, 1.3)),
            doc=inferred("render times are undocumented; a few minutes per job is typical of Kling renders"),
        ),
        doc=seed(
            SEED, '"status": "IN_PROGRESS" ... "status": "SUCCESS"; FAILED from the sibling zimageturbo API'
        ),
    ),
    prices=PriceTable(
        unit="credits",
        rates=RATES,
        settlement=Settlement.CHARGE_THEN_REFUND,
        refund_on_failure=True,
        places=0,
        default_balance=Decimal(10_000),
        doc=seed(
            SEED, '"consumed_credits": 400 in the create answer (80/s x 5 s: charged at creation, sound on)'
        ),
    ),
    urls=UrlPolicy(
        lifetime_seconds=7 * 24 * 3600,
        expired_status=404,
        expired_body={"code": 404, "message": "The file has expired", "error": "NOT_FOUND", "data": None},
        doc=inferred("output lifetime is undocumented; 7 days is common for this API family's CDN"),
    ),
    ids=IdFormat(
        templates={"kling3": "n75{hex:12}", "o3": "n71{hex:12}"},
        pattern=r"n7[15][0-9A-Za-z]+",
        doc=seed(SEED, "Routes based on task_id prefix (n75 for Kling 3.0, n71 for Kling O3)."),
    ),
    hooks=Hooks(plan=_plan, render_created=_render_created, render_job=_render_job, normalize=_normalize),
    settings=(
        Setting(
            "video_edit_output_seconds",
            5,
            inferred(
                "video-edit duration is 'auto' (the source's length); 5 s when the source can't be probed"
            ),
        ),
        Setting(
            "default_balance",
            10_000,
            inferred("balances are undocumented; enough for ~25 default jobs so examples run out of the box"),
        ),
        Setting(
            "refund_failed_jobs",
            True,
            inferred("refunds are undocumented; resellers refund consumed_credits when a task FAILS"),
        ),
    ),
)

__all__ = ["SPEC"]
