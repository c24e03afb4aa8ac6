"""Prospolabs: Kling O3 behind one synchronous `POST /v1/generate`, priced in USD per second (seed 002)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from klingsim.spec import (
    Action,
    AuthSpec,
    BodySpec,
    CallbackPolicy,
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
    RateLimit,
    RenderTime,
    RequiredWhen,
    Setting,
    Settlement,
    SyncWait,
    Total,
    TypeIs,
    Unit,
    UrlPolicy,
    Variant,
    When,
    inferred,
    public,
    seed,
)
from klingsim.spec import shapes as s

SEED = "002_459cf4b4dd1a14a7.txt"
DOCS = "https://helios-7yg.pages.dev/docs/"
MODEL = "kling-o3"
DURATION = (3, 15)

# Top-level fields of every request; the model's own parameters may instead sit in a `params` object (the
# public docs), while the seed sends them flat: both are read.
SHARED = ("model", "mode", "webhook_url", "async")

_RANGES = "Standard $0.10–$0.126/sec, Pro $0.134–$0.168/sec"
_MAPPING = (
    f"the seed gives ranges, not rows ('{_RANGES}'); each range's ends are ~1.25x apart, like fal's O3 "
    "audio off/on rates ($0.084 -> $0.112), so the low end is audio off and the high end audio on"
)


def _rate(quality: str, audio: bool, usd: str) -> Rate:
    return Rate(
        match={"quality": quality, "generate_audio": audio},
        per_second=Decimal(usd),
        doc=inferred(_MAPPING),
        label=f"{quality}, audio {'on' if audio else 'off'}: ${usd}/s",
    )


RATES = (
    _rate("standard", False, "0.100"),
    _rate("standard", True, "0.126"),
    _rate("pro", False, "0.134"),
    _rate("pro", True, "0.168"),
)

SHOT = (
    Param(
        "prompt",
        ParamType.STRING,
        inferred("upstream Kling multi-shot prompts hold 1–512 characters"),
        required=True,
        min_length=1,
        max_length=512,
    ),
    Param(
        "duration",
        ParamType.NUMBER,
        inferred("shot durations are undocumented; whole seconds, as the total, at least 1 s each"),
        required=True,
        minimum=1,
        maximum=DURATION[1],
        whole=True,
        numeric_strings=True,
    ),
)

PARAMS = (
    Param(
        "model",
        ParamType.STRING,
        seed(SEED, "a single POST to /v1/generate using model id kling-o3"),
        required=True,
        enum=(MODEL,),
        example=MODEL,
    ),
    Param(
        "mode",
        ParamType.STRING,
        seed(SEED, "mode string text Required. One of: text, image."),
        default="text",
        enum=("text", "image"),
    ),
    Param(
        "prompt",
        ParamType.STRING,
        inferred(
            "the seed says only 'prompt string Required.'; at most 2500 characters, the upstream Kling "
            "and fal limit"
        ),
        required=True,
        min_length=1,
        max_length=2500,
        example="A hummingbird hovering near a sunlit flower, slow motion",
    ),
    Param(
        "quality",
        ParamType.STRING,
        seed(SEED, "quality string standard Required. One of: standard, pro."),
        default="standard",
        enum=("standard", "pro"),
    ),
    Param("generate_audio", ParamType.BOOLEAN, seed(SEED, "generate_audio boolean false"), default=False),
    Param(
        "duration",
        ParamType.NUMBER,
        inferred(
            "the seed says 'duration number 5 Range: 3–15.'; whole seconds only, so 5.5 is refused and "
            "'5' is read as 5"
        ),
        default=5,
        minimum=DURATION[0],
        maximum=DURATION[1],
        whole=True,
        numeric_strings=True,
    ),
    Param(
        "aspect_ratio",
        ParamType.STRING,
        seed(SEED, "aspect_ratio string 16:9 One of: 16:9, 9:16, 1:1."),
        default="16:9",
        enum=("16:9", "9:16", "1:1"),
    ),
    Param(
        "shot_type",
        ParamType.STRING,
        seed(SEED, "shot_type string customize One of: customize, intelligent."),
        default="customize",
        enum=("customize", "intelligent"),
    ),
    Param(
        "multi_prompt",
        ParamType.ARRAY,
        inferred(
            "the seed types it 'string' ('Storyboard multiple shots — overrides the single prompt above "
            "when used'); upstream takes a list of {prompt, duration} shots, so a list or a JSON string "
            "of one is accepted, at most 6 shots, and the shots' durations make the total"
        ),
        max_items=6,
        items=Param("multi_prompt[]", ParamType.OBJECT, inferred("one storyboard shot"), properties=SHOT),
        description="Also accepted as a JSON string of the same list.",
    ),
    Param(
        "image_url",
        ParamType.STRING,
        inferred(
            "image mode ('start→end interpolation') names no fields; fal's O3 image-to-video, which "
            "backs this model, calls the start frame image_url"
        ),
        min_length=1,
        format="image-url",
    ),
    Param(
        "end_image_url",
        ParamType.STRING,
        inferred("the end frame of image mode, named as on fal's O3 image-to-video"),
        min_length=1,
        format="image-url",
    ),
    Param(
        "webhook_url",
        ParamType.STRING,
        public(DOCS, "webhook_url (optional): Receive a callback when async generation completes"),
        min_length=1,
        format="https-url",
    ),
    Param(
        "async",
        ParamType.BOOLEAN,
        public(DOCS, "async boolean (or ?async=true) skip the synchronous wait; returns generation_id"),
        default=False,
    ),
)

RULES = (
    RequiredWhen(
        ("image_url",),
        When("mode", values=("image",)),
        "invalid_request",
        inferred("image mode needs its start frame"),
        message="image_url is required when mode is image",
    ),
)

ERRORS = (
    ErrorSpec(
        "invalid_request",
        400,
        "The request is invalid",
        inferred("validation errors are undocumented; flat {code, message} like the seed's 410 body"),
    ),
    ErrorSpec(
        "unauthorized",
        401,
        "Missing or invalid API key",
        inferred("auth errors are undocumented; keys look like 'prsp-…' (Prospolabs API docs)"),
    ),
    ErrorSpec(
        "insufficient_balance",
        402,
        "Insufficient balance",
        inferred("a prepaid USD balance ('Pay-as-you-go') needs a refusal; 402 as the other resellers"),
    ),
    ErrorSpec("not_found", 404, "Not found", inferred("unknown generations and routes are undocumented")),
    ErrorSpec(
        "model_not_found",
        404,
        "Unknown model",
        inferred(
            "one endpoint serves every model ('a single POST to /v1/generate using model id "
            "kling-o3'); an unknown id is a missing resource, told apart from a bad field"
        ),
    ),
    ErrorSpec(
        "method_not_allowed", 405, "Method not allowed", inferred("undocumented; HTTP's status for it")
    ),
    ErrorSpec(
        "payload_too_large", 413, "Request body too large", inferred("undocumented; HTTP's status for it")
    ),
    ErrorSpec(
        "rate_limited",
        429,
        "Too many requests, slow down",
        inferred("rate limits are undocumented"),
        retry_after=60,
    ),
    ErrorSpec("internal_error", 500, "Internal error, please retry", inferred("undocumented; HTTP's status")),
)

CREATE_ERRORS = (
    "invalid_request",
    "unauthorized",
    "insufficient_balance",
    "model_not_found",
    "rate_limited",
    "internal_error",
    "payload_too_large",
)


def _normalize(body: dict[str, Any]) -> dict[str, Any]:
    """Read the `params` object when sent and a JSON-string `multi_prompt` (typed "string" by the seed);
    what can't be read is left as sent, for BODY_CHECKS to refuse."""
    params = body.get("params")
    if isinstance(params, dict):
        body = {**params, **{k: body[k] for k in SHARED if k in body}}
    shots = body.get("multi_prompt")
    if isinstance(shots, str):
        try:
            parsed = json.loads(shots)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            body = {**body, "multi_prompt": parsed}
    return body


BODY_CHECKS = (
    TypeIs(
        "prospolabs.params-object",
        "invalid_request",
        inferred("the model's parameters may sit in a `params` object (public docs), which must then be one"),
        "params must be an object",
        path="params",
        type="object",
    ),
    TypeIs(
        "prospolabs.multi-prompt-json",
        "invalid_request",
        inferred("the seed types multi_prompt 'string': a string must be the JSON of a list of shots"),
        "multi_prompt must be a list of shots (or a JSON string of one)",
        path="multi_prompt",
        type="array",
        if_type="string",
    ),
)
SHOTS_TOTAL = Total(
    "prospolabs.shots-total",
    "invalid_request",
    inferred(
        "the storyboard 'overrides the single prompt', so its shots make the clip: their total must be "
        "the model's 3–15 s"
    ),
    "multi_prompt shots add up to {total} s; the total must be {minimum}–{maximum} s",
    path="multi_prompt",
    field="duration",
    minimum=DURATION[0],
    maximum=DURATION[1],
)


def _seconds(body: dict[str, Any]) -> int:
    """The clip length: the shots' durations when a storyboard is sent, else `duration`."""
    shots = body.get("multi_prompt")
    if not shots:
        return int(body["duration"])
    return int(sum(shot["duration"] for shot in shots))


def _plan(variant: str, body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
    seconds = _seconds(body)
    pro = body["quality"] == "pro"
    return Plan(
        price_key={"quality": body["quality"], "generate_audio": body["generate_audio"]},
        billed_seconds=seconds,
        output=OutputPlan(body["aspect_ratio"], 1080 if pro else 720, seconds, body["generate_audio"]),
        wait=not body["async"],
    )


def _render(job: JobView) -> dict[str, Any]:
    ended = job.phase in (Phase.SUCCEEDED, Phase.FAILED)
    # A synchronous job ends on the clock the moment it is answered: its duration is the planned render time.
    elapsed = (
        job.planned_seconds
        if job.plan.wait or job.finished_at is None
        else ((job.finished_at - job.created_at).total_seconds())
    )
    out: dict[str, Any] = {
        "generation_id": job.id,
        "status": job.status,
        "model": job.request["model"],
        "mode": job.request["mode"],
        "estimated_cost_usd": float(job.cost),  # USD, always a decimal number as in the seed (0.60)
        "output_url": job.outputs[0] if job.outputs else None,
        "duration_ms": round(elapsed * 1000) if ended else None,
    }
    if job.phase is Phase.FAILED:
        out["error"] = {"code": job.error_code, "message": job.error_message}
    return out


GENERATION = s.obj(
    s.req("generation_id", s.string(unit=Unit.JOB_ID)),
    s.req("status", s.string(unit=Unit.STATUS)),
    s.req("model", s.string()),
    s.req("mode", s.string(enum=("text", "image"))),
    s.req("estimated_cost_usd", s.number(unit=Unit.MONEY, minimum=0)),
    s.req("output_url", s.string(unit=Unit.URL, nullable=True)),
    s.req("duration_ms", s.integer(unit=Unit.MILLISECONDS, nullable=True, minimum=0)),
    s.opt("error", s.obj(s.req("code", s.string(nullable=True)), s.req("message", s.string(nullable=True)))),
)


SPEC = ProviderSpec(
    id="prospolabs",
    title="Prospolabs (Kling O3)",
    base_url="https://api.prospolabs.com",
    hosts=("api.prospolabs.com",),
    docs=(
        seed(SEED, "Call the Kling O3 API on Prospolabs with a single POST to /v1/generate"),
        public(DOCS, "Prospolabs API"),
    ),
    models=(MODEL,),
    auth=AuthSpec(
        key_pattern=r"prsp-[A-Za-z0-9_\-]{8,128}",
        example_key="prsp-0123456789abcdef",
        doc=public(DOCS, "Authorization: Bearer prsp-…"),
    ),
    endpoints=(
        Endpoint(
            Action.CREATE,
            "POST",
            "/v1/generate",
            seed(SEED, 'curl -X POST "https://api.prospolabs.com/v1/generate"'),
            "Generate a clip (synchronous unless async)",
            body=BodySpec(
                variants=(
                    Variant(
                        MODEL,
                        PARAMS,
                        seed(SEED, "Supported parameters for Text → Video"),
                        rules=RULES,
                        constraints=(SHOTS_TOTAL,),
                    ),
                ),
                discriminator="model",
                unknown_variant_error="model_not_found",
                checks=BODY_CHECKS,
            ),
            response=GENERATION,
            query=(
                Param(
                    "async",
                    ParamType.BOOLEAN,
                    public(DOCS, "?async=true skip[s] the synchronous wait"),
                    default=False,
                ),
            ),
            errors=CREATE_ERRORS,
        ),
        Endpoint(
            Action.STATUS,
            "GET",
            "/v1/generations/{generation_id}",
            inferred(
                "async generations need polling and no poll route is documented; "
                "/v1/generations/{id} answers the same object as the create"
            ),
            "Get a generation",
            id_param="generation_id",
            errors=("unauthorized", "not_found", "rate_limited", "internal_error"),
            response=GENERATION,
        ),
    ),
    errors=ERRORS,
    envelope=Envelope(
        {"code": "$code", "message": "$message"},
        inferred(
            'error bodies are undocumented but for the 410\'s { "code": "output_expired" }; '
            "every error takes that flat shape with a message"
        ),
    ),
    roles={
        ErrorRole.MISSING_KEY: "unauthorized",
        ErrorRole.INVALID_KEY: "unauthorized",
        ErrorRole.MALFORMED_BODY: "invalid_request",
        ErrorRole.VALIDATION: "invalid_request",
        ErrorRole.BODY_TOO_LARGE: "payload_too_large",
        ErrorRole.NOT_FOUND: "not_found",
        ErrorRole.ROUTE_NOT_FOUND: "not_found",
        ErrorRole.METHOD_NOT_ALLOWED: "method_not_allowed",
        ErrorRole.INSUFFICIENT_FUNDS: "insufficient_balance",
        ErrorRole.RATE_LIMITED: "rate_limited",
        ErrorRole.INTERNAL: "internal_error",
        ErrorRole.UNKNOWN_MODEL: "model_not_found",
    },
    lifecycle=Lifecycle(
        words={
            Phase.QUEUED: "queued",
            Phase.RUNNING: "processing",
            Phase.SUCCEEDED: "completed",
            Phase.FAILED: "failed",
        },
        render=RenderTime(
            queued=(1, 5),
            base=(20, 40),
            per_output_second=(4, 8),
            factors=(({"quality": "pro"}, 1.3),),
            doc=inferred(
                "render times are undocumented (the seed's duration_ms 2143 is illustrative); "
                "a few minutes per clip is typical of Kling O3, pro slower"
            ),
        ),
        doc=public(DOCS, "status: queued | processing | completed | failed"),
    ),
    prices=PriceTable(
        unit="USD",
        rates=RATES,
        settlement=Settlement.CHARGE_THEN_REFUND,
        refund_on_failure=True,
        places=3,
        default_balance=Decimal(10),
        doc=seed(
            SEED,
            f"The API and the playground share the same USD price — {_RANGES} … failed runs are "
            "auto-refunded",
        ),
    ),
    urls=UrlPolicy(
        lifetime_seconds=7 * 24 * 3600,
        expired_status=410,
        expired_body={"code": "output_expired"},
        doc=seed(
            SEED,
            "output_url is valid for 7 days after generation. After that, requests return HTTP 410 "
            'Gone with { "code": "output_expired" }.',
        ),
    ),
    ids=IdFormat(
        templates={"default": "gen_{alnum:16}"},
        pattern=r"gen_[a-z0-9]+",
        doc=inferred(
            'the seed shows only the prefix (\'"generation_id": "gen_abc123"\', a placeholder); '
            "16 lowercase letters and digits follow it"
        ),
    ),
    hooks=Hooks(plan=_plan, render_created=_render, render_job=_render, normalize=_normalize),
    rate_limit=RateLimit(60, 60, inferred("rate limits are undocumented; 60 requests a minute per key")),
    callbacks=CallbackPolicy(
        field="webhook_url",
        doc=inferred(
            "webhook_url is documented ('Receive a callback when async generation completes'), its "
            "delivery is not: the final generation object is POSTed unsigned to a public HTTPS URL, "
            "retried up to 3 times"
        ),
        error="invalid_request",
    ),
    sync=SyncWait(
        600,
        inferred(
            "the synchronous wait's limit is undocumented; 10 minutes covers every simulated render, so a "
            "create answers 'completed' as in the seed; a failed run answers 200 with the failed generation"
        ),
        failure_status=200,
    ),
    settings=(
        Setting(
            "sync_wait_seconds",
            600,
            inferred(
                "the synchronous wait's limit is undocumented; 10 minutes covers every simulated render, "
                "so a create answers 'completed' as in the seed; a longer render answers 'processing' "
                "(then polled)"
            ),
        ),
        Setting(
            "sync_failure_status",
            200,
            inferred(
                "a failed synchronous run is undocumented; it answers the generation object with status "
                "'failed' and an error, as polling would, so the generation_id is never lost"
            ),
        ),
        Setting(
            "default_balance",
            10,
            inferred(
                "balances are undocumented; $10 pays for twenty default clips (5 s standard at $0.10/s)"
            ),
        ),
    ),
)

__all__ = ["SPEC"]
