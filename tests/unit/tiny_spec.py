"""A synthetic provider used only by the engine's own tests (no real API behaves like it).

It exercises the whole spec vocabulary in one small place: a JWT auth scheme with its own error codes,
two kinds of create (a body-chosen model on a task-kind path, a path-chosen model under `{model_id:path}`),
status by path and by query id (and by a client's own `external_task_id`), a result that answers 202 while
pending, a cancel with its own not-found body, a list, a balance, a concurrency limit, one constraint of
each kind, and declared response shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from klingsim.spec import (
    AccountView,
    Action,
    AuthFailure,
    AuthSpec,
    BodySpec,
    Bound,
    Check,
    Concurrency,
    Count,
    CountAcross,
    EachItem,
    Endpoint,
    Envelope,
    ErrorRole,
    ErrorSpec,
    Facts,
    FromSetting,
    Hooks,
    IdFormat,
    JobView,
    JwtHs256,
    Lifecycle,
    NoEmptyItems,
    OutputPlan,
    Param,
    ParamType,
    Phase,
    Plan,
    PriceTable,
    ProbedRange,
    ProviderSpec,
    Rate,
    RenderTime,
    RequiredWhen,
    Setting,
    Settlement,
    Total,
    TypeIs,
    UrlPolicy,
    Variant,
    When,
    inferred,
)
from klingsim.spec import shapes as s

DOC = inferred("synthetic provider for the engine's tests")
BAD = "bad_request"


def _p(name: str, kind: ParamType, **extra: Any) -> Param:
    return Param(name, kind, DOC, **extra)


SHOTS = _p(
    "shots",
    ParamType.ARRAY,
    max_items=6,
    items=_p(
        "shots[]",
        ParamType.OBJECT,
        properties=(_p("prompt", ParamType.STRING, required=True), _p("seconds", ParamType.STRING)),
    ),
)
T2V_PARAMS = (
    _p("model_name", ParamType.STRING, default="tiny-1", enum=("tiny-1", "tiny-2")),
    _p("prompt", ParamType.STRING, max_length=100),
    _p("duration", ParamType.INTEGER, default=5, minimum=3, maximum=15),
    _p("multi_shot", ParamType.BOOLEAN, default=False),
    SHOTS,
    _p("images", ParamType.ARRAY, items=_p("images[]", ParamType.STRING)),
    _p("elements", ParamType.ARRAY, items=_p("elements[]", ParamType.INTEGER)),
    _p("refs", ParamType.STRING),
    _p("video", ParamType.STRING, format="video-url"),
    _p("external_task_id", ParamType.STRING),
)


def _no_secret_word(facts: Facts) -> tuple[str, str] | None:
    prompt = facts.get("prompt")
    return ("prompt must not say 'forbidden'", "prompt") if prompt and "forbidden" in prompt else None


CONSTRAINTS = (
    NoEmptyItems("tiny.refs-no-empty", BAD, DOC, "refs has an empty item", path="refs"),
    Count(
        "tiny.refs-count", BAD, DOC, "refs has {count}; at most {limit}", path="refs", maximum=2, split=","
    ),
    EachItem(
        "tiny.shot-seconds",
        BAD,
        DOC,
        "shots[{index}].seconds must be whole seconds >= 1",
        path="shots",
        field="seconds",
        pattern="[0-9]+",
        minimum=1,
        param="shots[{index}].seconds",
        when=(When("multi_shot", (True,)),),
    ),
    Total(
        "tiny.shots-sum",
        BAD,
        DOC,
        "shots add up to {total} s, not {target}",
        path="shots",
        field="seconds",
        equals="duration",
        when=(When("multi_shot", (True,)),),
    ),
    CountAcross(
        "tiny.images-elements",
        BAD,
        DOC,
        "images ({n0}) + elements ({n1}) > {limit}",
        paths=("images", "elements"),
        maximum=FromSetting("max_refs"),
        when=(When("video", present=True),),
    ),
    Bound("tiny.words", BAD, DOC, "the prompt has {value} words; at most {limit}", path="@words", maximum=20),
    ProbedRange(
        "tiny.video-length", BAD, DOC, "video lasts {value:.1f} s", path="video", minimum=3, maximum=10
    ),
    Check("tiny.secret-word", BAD, DOC, "", test=_no_secret_word),
)
T2V = Variant(
    "tiny-1",
    T2V_PARAMS,
    DOC,
    rules=(
        RequiredWhen(
            ("prompt",),
            When("multi_shot", (True,), negate=True),
            BAD,
            DOC,
            "prompt is required unless multi_shot",
            id="tiny.prompt-unless-multi-shot",
            nonblank=True,
        ),
    ),
    constraints=CONSTRAINTS,
)
T2V_2 = Variant("tiny-2", T2V_PARAMS, DOC, constraints=CONSTRAINTS)
PATH_PARAMS = (_p("prompt", ParamType.STRING, required=True), _p("seconds", ParamType.INTEGER, default=5))
PATH_VARIANTS = tuple(Variant(name, PATH_PARAMS, DOC) for name in ("acme/video/fast", "acme/video/slow"))

JOB = s.obj(
    s.req("task_id", s.string(unit=s.Unit.JOB_ID)),
    s.req("task_status", s.string(unit=s.Unit.STATUS)),
    s.req("progress", s.integer(unit=s.Unit.PERCENT)),
    s.req("created_at", s.integer(unit=s.Unit.EPOCH_MS)),
    s.req("operation", s.string()),
    s.req("status_url", s.string(unit=s.Unit.URL)),
    s.opt("videos", s.array(s.string(unit=s.Unit.URL))),
    s.opt("error", s.string(nullable=True)),
    s.opt("logs", s.array(s.string())),
)


def _render(job: JobView) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task_id": job.id,
        "task_status": job.status,
        "progress": int(job.progress * 100),
        "created_at": int(job.created_at.timestamp() * 1000),
        "operation": job.operation,
        "status_url": f"{job.base_url}/v1/requests/{job.id}/status",
    }
    if job.query.get("logs") == "1":
        out["logs"] = []
    if job.outputs:
        out["videos"] = list(job.outputs)
    if job.phase is Phase.FAILED:
        out["error"] = job.error_code
    return out


def _result(job: JobView) -> dict[str, Any]:
    return {"video": {"url": job.outputs[0]}}


def _cancel(job: JobView) -> dict[str, Any]:
    return {"status": "CANCELLATION_REQUESTED"}


def _list(account: AccountView, query: Mapping[str, str]) -> dict[str, Any]:
    return {"data": [_render(j) for j in reversed(account.jobs)]}


def _balance(account: AccountView) -> dict[str, Any]:
    return {"balance": float(account.balance)}


def _derive(variant: str, request: dict[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    return {"words": len(str(request.get("prompt") or "").split())}


def _plan(variant: str, body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
    seconds = float(body.get("duration") or body.get("seconds") or 5)
    return Plan({"any": True}, seconds, OutputPlan("16:9", 720, seconds, False))


ERRORS = (
    ErrorSpec(BAD, 400, "Bad request", DOC, type="1201"),
    ErrorSpec("auth_failed", 401, "Authentication failed", DOC, type="1000"),
    ErrorSpec("auth_empty", 401, "Authorization is empty", DOC, type="1001"),
    ErrorSpec("auth_invalid", 401, "Authorization is invalid", DOC, type="1002"),
    ErrorSpec("auth_early", 401, "Token not yet valid", DOC, type="1003"),
    ErrorSpec("auth_expired", 401, "Token expired", DOC, type="1004"),
    ErrorSpec("not_found", 404, "Not found", DOC),
    ErrorSpec("cancel_not_found", 404, "Not found", DOC, envelope={"status": "NOT_FOUND"}),
    ErrorSpec("already_done", 400, "Already completed", DOC, envelope={"status": "ALREADY_COMPLETED"}),
    ErrorSpec("method", 405, "Method not allowed", DOC),
    ErrorSpec("too_large", 413, "Too large", DOC),
    ErrorSpec("no_money", 402, "No money", DOC),
    ErrorSpec("slow_down", 429, "Rate limited", DOC),
    ErrorSpec("too_many", 429, "Too many tasks", DOC, type="1303"),
    ErrorSpec("internal_error", 500, "Internal", DOC, headers={"X-Error-Type": "$code"}),
    ErrorSpec("unknown_model", 404, "Unknown model", DOC),
)
T2V_PATH = "/v1/videos/text2video"
SPEC = ProviderSpec(
    id="tiny",
    title="Tiny (synthetic)",
    base_url="https://tiny.invalid",
    hosts=("tiny.invalid",),
    docs=(DOC,),
    models=("tiny-1", "tiny-2", "acme/video/fast", "acme/video/slow"),
    auth=AuthSpec(
        key_pattern=r"ak-[a-z0-9]{4,}",
        example_key="ak-0123",
        doc=DOC,
        schemes=(JwtHs256(leeway_seconds=5),),
        errors={
            AuthFailure.MISSING: "auth_empty",
            AuthFailure.MALFORMED: "auth_invalid",
            AuthFailure.UNKNOWN_KEY: "auth_failed",
            AuthFailure.BAD_SIGNATURE: "auth_failed",
            AuthFailure.NOT_YET_VALID: "auth_early",
            AuthFailure.EXPIRED: "auth_expired",
        },
    ),
    endpoints=(
        Endpoint(
            Action.CREATE,
            "POST",
            T2V_PATH,
            DOC,
            "Text to video",
            body=BodySpec(
                (T2V, T2V_2),
                discriminator="model_name",
                checks=(
                    TypeIs("tiny.options-object", BAD, DOC, "options must be an object", path="options"),
                ),
            ),
            name="text2video",
            unique_fields=("external_task_id",),
            response=JOB,
        ),
        Endpoint(
            Action.CREATE,
            "POST",
            "/{model_id:path}",
            DOC,
            "Run a model named by the path",
            body=BodySpec(PATH_VARIANTS, discriminator="model_id", discriminator_in="path"),
            name="run",
            response=JOB,
        ),
        Endpoint(
            Action.STATUS,
            "GET",
            T2V_PATH + "/{id}",
            DOC,
            "One text-to-video task",
            id_param="id",
            id_fields=("external_task_id",),
            jobs_of=("text2video",),
            name="text2video_status",
            response=JOB,
        ),
        Endpoint(
            Action.LIST,
            "GET",
            T2V_PATH,
            DOC,
            "Text-to-video tasks",
            jobs_of=("text2video",),
            query=(_p("pageSize", ParamType.INTEGER, minimum=1, maximum=500, default=30),),
            check_query=True,
            response=s.obj(s.req("data", s.array(JOB))),
        ),
        Endpoint(
            Action.STATUS,
            "GET",
            "/v1/requests/{id}/status",
            DOC,
            "Any task's status",
            id_param="id",
            pending_status=202,
            response=JOB,
        ),
        Endpoint(
            Action.STATUS,
            "GET",
            "/v1/status",
            DOC,
            "Status by query",
            id_param="id",
            id_in="query",
            name="query_status",
            response=JOB,
        ),
        Endpoint(
            Action.RESULT,
            "GET",
            "/v1/requests/{id}",
            DOC,
            "A task's result",
            id_param="id",
            pending_status=202,
            response=s.obj(s.req("video", s.obj(s.req("url", s.string(unit=s.Unit.URL))))),
        ),
        Endpoint(
            Action.CANCEL,
            "PUT",
            "/v1/requests/{id}/cancel",
            DOC,
            "Cancel a task",
            id_param="id",
            success_status=202,
            roles={ErrorRole.NOT_FOUND: "cancel_not_found"},
            cancellable=frozenset({Phase.QUEUED, Phase.RUNNING}),
            response=s.obj(s.req("status", s.string(enum=("CANCELLATION_REQUESTED",)))),
        ),
        Endpoint(
            Action.BALANCE, "GET", "/account", DOC, "Balance", response=s.obj(s.req("balance", s.number()))
        ),
    ),
    errors=ERRORS,
    envelope=Envelope({"code": "$type", "message": "$message"}, DOC),
    roles={
        ErrorRole.MISSING_KEY: "auth_empty",
        ErrorRole.INVALID_KEY: "auth_failed",
        ErrorRole.MALFORMED_BODY: BAD,
        ErrorRole.VALIDATION: BAD,
        ErrorRole.BODY_TOO_LARGE: "too_large",
        ErrorRole.NOT_FOUND: "not_found",
        ErrorRole.ROUTE_NOT_FOUND: "not_found",
        ErrorRole.METHOD_NOT_ALLOWED: "method",
        ErrorRole.INSUFFICIENT_FUNDS: "no_money",
        ErrorRole.RATE_LIMITED: "slow_down",
        ErrorRole.INTERNAL: "internal_error",
        ErrorRole.UNKNOWN_MODEL: "unknown_model",
        ErrorRole.ALREADY_FINISHED: "already_done",
        ErrorRole.TOO_MANY_JOBS: "too_many",
    },
    lifecycle=Lifecycle(
        words={
            Phase.QUEUED: "submitted",
            Phase.RUNNING: "processing",
            Phase.SUCCEEDED: "succeed",
            Phase.FAILED: "failed",
        },
        render=RenderTime(queued=(2, 2), base=(10, 10), per_output_second=(0, 0), doc=DOC),
        doc=DOC,
    ),
    prices=PriceTable(
        unit="units",
        rates=(Rate({"any": True}, DOC, per_second=Decimal("0.2")),),
        settlement=Settlement.CHARGE_THEN_REFUND,
        refund_on_failure=True,
        places=2,
        default_balance=Decimal(100),
        doc=DOC,
    ),
    urls=UrlPolicy(lifetime_seconds=3600, expired_status=404, doc=DOC),
    ids=IdFormat(templates={"default": "{hex:18}"}, pattern=r"[0-9a-f]{18}", doc=DOC),
    hooks=Hooks(
        plan=_plan,
        derive=_derive,
        render_created=_render,
        render_job=_render,
        render_result=_result,
        render_cancel=_cancel,
        render_list=_list,
        render_balance=_balance,
    ),
    concurrency=Concurrency(3, DOC),
    settings=(
        Setting("max_refs", 4, DOC),
        Setting("max_concurrent_jobs", 3, DOC),
        Setting("jwt_leeway_seconds", 5, DOC),
        Setting("create_success_status", 200, DOC),
    ),
)
