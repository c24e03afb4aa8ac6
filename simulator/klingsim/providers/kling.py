"""The official Kling API (api-singapore.klingai.com): JWT-signed requests, one create path per task kind,
queries by task id or `external_task_id`, task lists and resource packs (upstream contract, section 1).

Sources: the official pages (read through a public mirror of them), the zod schemas of vercel/ai
`packages/klingai`, and QuantumNous/new-api's Kling adaptor; each fact cites its page, each gap is inferred.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from klingsim.providers import _kling_models as models
from klingsim.providers import _kling_render as render
from klingsim.providers import _kling_shapes as shapes
from klingsim.spec import (
    AccountView,
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
    JwtHs256,
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
    UrlPolicy,
    inferred,
    public,
)

DOCS = "https://app.klingai.com/global/dev/document-api/apiReference/commonInfo"
RATE_PAGE = "https://app.klingai.com/global/dev/document-api/apiReference/rateLimits"
ACCOUNT_PAGE = "https://app.klingai.com/global/dev/document-api/apiReference/accountInfoInquiry"
CALLBACK_PAGE = "https://app.klingai.com/global/dev/document-api/apiReference/callbackProtocol"
KINDS = ("text2video", "image2video", "omni-video")


def doc(quote: str) -> DocRef:
    return public(DOCS, quote)


def _error(code: int, status: int, message: str) -> ErrorSpec:
    # Every 429 says when to come back (Retry-After, inferred: the pages give no wait).
    wait = 60 if status == 429 else None
    return ErrorSpec(
        str(code), status, message, doc(f"HTTP {status} | service code {code} | {message}"), retry_after=wait
    )


ERRORS = (
    _error(1000, 401, "Authentication failed"),
    _error(1001, 401, "Authorization is empty"),
    _error(1002, 401, "Authorization is invalid"),
    _error(1003, 401, "Authorization is not yet valid"),
    _error(1004, 401, "Authorization has expired"),
    _error(1100, 429, "Account exception"),
    _error(1101, 429, "Account in arrears (postpaid scenario)"),
    _error(1102, 429, "Resource pack depleted or expired (prepaid scenario)"),
    _error(1103, 403, "Unauthorized access to requested resource, such as API/model"),
    _error(1200, 400, "Invalid request parameters"),
    _error(1201, 400, "Invalid parameters, such as incorrect key or illegal value"),
    _error(1202, 404, "The requested method is invalid"),
    _error(1203, 404, "The requested resource does not exist, such as the model"),
    _error(1300, 400, "Trigger strategy of the platform"),
    _error(1301, 400, "Trigger the content security policy of the platform"),
    _error(1302, 429, "The API request is too fast, exceeding the platform's rate limit"),
    ErrorSpec(
        "1303",
        429,
        "parallel task over resource pack limit",
        public(RATE_PAGE, "1303: concurrency or QPS exceeds the prepaid resource package limit"),
        retry_after=30,
    ),
    _error(1304, 429, "Trigger the platform's IP whitelisting policy"),
    _error(5000, 500, "Server internal error"),
    _error(5001, 503, "Server temporarily unavailable, usually due to maintenance"),
    _error(5002, 504, "Server internal timeout, usually due to a backlog"),
    ErrorSpec(
        "413",
        413,
        "Request body too large",
        inferred("the pages list no size limit; HTTP's status in Kling's envelope"),
    ),
)


def _plan(variant: str, body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
    seconds = float(body["duration"])
    sound = body.get("sound") == "on"
    videos = body.get("video_list") or []
    kept = any(isinstance(v, Mapping) and v.get("keep_original_sound") == "yes" for v in videos)
    key = {"tier": "master" if variant in models.MASTER else "", "mode": body["mode"], "sound": body["sound"]}
    return Plan(
        price_key=key,
        billed_seconds=seconds,
        output=OutputPlan(
            body["aspect_ratio"], 1080 if body["mode"] == "pro" else 720, seconds, sound or kept
        ),
    )


def _page(query: Mapping[str, str], name: str, default: int) -> int:
    # The engine validated the declared query params; anything else reads as the default.
    raw = query.get(name, "")
    return int(raw) if raw.isdigit() else default


def _list(account: AccountView, query: Mapping[str, str]) -> dict[str, Any]:
    return render.listing(account.jobs, _page(query, "pageNum", 1), _page(query, "pageSize", 30))


def _costs(account: AccountView) -> dict[str, Any]:
    return render.costs(account, int(account.settings["resource_pack_days"]))


def _create(kind: str) -> Endpoint:
    return Endpoint(
        Action.CREATE,
        "POST",
        f"/v1/videos/{kind}",
        doc(f"POST /v1/videos/{kind}: create a task"),
        f"Create a {kind} task",
        name=kind,
        body=BodySpec(models.variants(kind), discriminator="model_name", unknown_variant_error="1201"),
        unique_fields=("external_task_id",),
        response=shapes.CREATED,
        errors=("1000", "1001", "1002", "1003", "1004", "1102", "1200", "1201", "1303", "5000"),
    )


def _query(kind: str) -> Endpoint:
    return Endpoint(
        Action.STATUS,
        "GET",
        f"/v1/videos/{kind}/{{task_id}}",
        doc(f"GET /v1/videos/{kind}/{{id}}: query a task by task_id or external_task_id"),
        f"Query one {kind} task",
        name=f"{kind}_query",
        id_param="task_id",
        id_fields=("external_task_id",),
        jobs_of=(kind,),
        errors=("1000", "1001", "1002", "1003", "1004", "1203"),
        response=shapes.QUERY,
    )


PAGE_PARAMS = (
    Param(
        "pageNum", ParamType.INTEGER, doc("pageNum: page number, 1-1000, default 1"), minimum=1, maximum=1000
    ),
    Param("pageSize", ParamType.INTEGER, doc("pageSize: 1-500, default 30"), minimum=1, maximum=500),
)


def _list_op(kind: str) -> Endpoint:
    return Endpoint(
        Action.LIST,
        "GET",
        f"/v1/videos/{kind}",
        doc(f"GET /v1/videos/{kind}?pageNum=1&pageSize=30: query tasks (list)"),
        f"List the account's {kind} tasks, newest first",
        name=f"{kind}_list",
        jobs_of=(kind,),
        query=PAGE_PARAMS,
        check_query=True,
        errors=("1000", "1001", "1002", "1003", "1004", "1201"),
        response=shapes.LIST,
    )


ENDPOINTS = (
    *(_create(kind) for kind in KINDS),
    *(_query(kind) for kind in KINDS),
    *(_list_op(kind) for kind in KINDS),
    Endpoint(
        Action.BALANCE,
        "GET",
        "/account/costs",
        public(ACCOUNT_PAGE, "GET /account/costs?start_time&end_time: resource_pack_subscribe_infos"),
        "The account's resource packs",
        name="account_costs",
        query=(
            Param("start_time", ParamType.INTEGER, public(ACCOUNT_PAGE, "start_time: ms")),
            Param("end_time", ParamType.INTEGER, public(ACCOUNT_PAGE, "end_time: ms")),
        ),
        check_query=True,
        errors=("1000", "1001", "1002", "1003", "1004"),
        response=shapes.COSTS,
    ),
)

SPEC = ProviderSpec(
    id="kling",
    title="Official Kling API (klingai.com)",
    base_url="https://api-singapore.klingai.com",
    hosts=("api-singapore.klingai.com", "api.klingai.com", "api-beijing.klingai.com"),
    docs=(doc("Kling AI API reference: general information"),),
    models=(*models.VIDEO_MODELS, *models.OMNI_MODELS),
    auth=AuthSpec(
        key_pattern=r"[A-Za-z0-9_\-]{4,128}",
        example_key="AKg3kYp9rCwQ8tBfHdNeL2mZ4xVjUsT7",
        example_secret="SKn4Rt8vWq2LxZc6HbJm9PdFs3KgYe5A",
        doc=doc('Authorization: Bearer <JWT>; header {"alg": "HS256", "typ": "JWT"}; iss = AccessKey'),
        schemes=(JwtHs256(),),
        errors={
            AuthFailure.MISSING: "1001",
            AuthFailure.MALFORMED: "1002",
            AuthFailure.UNKNOWN_KEY: "1000",
            AuthFailure.BAD_SIGNATURE: "1000",
            AuthFailure.NOT_YET_VALID: "1003",
            AuthFailure.EXPIRED: "1004",
        },
    ),
    endpoints=ENDPOINTS,
    errors=ERRORS,
    envelope=Envelope(
        {"code": "$code_number", "message": "$message", "request_id": "$request_id"},
        doc('{"code": <service code>, "message": "<text>", "request_id": "<id>"}'),
        answer_ids=True,
    ),
    roles={
        ErrorRole.MISSING_KEY: "1001",
        ErrorRole.INVALID_KEY: "1000",
        ErrorRole.MALFORMED_BODY: "1200",
        ErrorRole.VALIDATION: "1201",
        ErrorRole.BODY_TOO_LARGE: "413",
        ErrorRole.NOT_FOUND: "1203",
        ErrorRole.ROUTE_NOT_FOUND: "1203",
        ErrorRole.METHOD_NOT_ALLOWED: "1202",
        ErrorRole.INSUFFICIENT_FUNDS: "1102",
        ErrorRole.RATE_LIMITED: "1302",
        ErrorRole.INTERNAL: "5000",
        ErrorRole.UNKNOWN_MODEL: "1201",
        ErrorRole.ALREADY_FINISHED: "1201",
        ErrorRole.TOO_MANY_JOBS: "1303",
    },
    lifecycle=Lifecycle(
        words={
            Phase.QUEUED: "submitted",
            Phase.RUNNING: "processing",
            Phase.SUCCEEDED: "succeed",
            Phase.FAILED: "failed",
        },
        render=RenderTime(
            queued=(2, 10),
            base=(30, 60),
            per_output_second=(4, 8),
            factors=(({"mode": "pro"}, 1.3),),
            doc=inferred("render times are undocumented; a few minutes per task is typical of Kling renders"),
        ),
        doc=doc("task_status: submitted, processing, succeed, failed"),
    ),
    prices=PriceTable(
        unit="units",
        rates=models.RATES,
        settlement=Settlement.CHARGE_THEN_REFUND,
        refund_on_failure=True,
        places=4,
        default_balance=Decimal(1000),
        doc=inferred(f"{models.UNITS}; charged at creation, refunded when the task fails, as resellers do"),
    ),
    urls=UrlPolicy(
        lifetime_seconds=30 * 24 * 3600,
        expired_status=404,
        expired_body={"code": 1203, "message": "The requested resource does not exist"},
        doc=doc("generated images/videos will be cleared after 30 days; the status after that is inferred"),
    ),
    ids=IdFormat(
        templates={"default": "8{digits:17}"},
        pattern=r"\d{18}",
        doc=inferred("task ids of recent real answers are 18-digit numeric strings"),
    ),
    hooks=Hooks(
        plan=_plan,
        render_created=render.created,
        render_job=render.query,
        render_list=_list,
        render_balance=_costs,
        render_callback=render.task,
    ),
    callbacks=CallbackPolicy(
        field="callback_url",
        doc=public(CALLBACK_PAGE, "the server sends the task object when the task status changes"),
        error="1201",
        phases=frozenset({Phase.RUNNING, Phase.SUCCEEDED, Phase.FAILED}),
    ),
    concurrency=Concurrency(
        5,
        inferred("the concurrency depends on the resource pack; 5 unfinished tasks per account"),
        error="1303",
        setting="max_concurrent_tasks",
    ),
    settings=(
        Setting(
            "max_concurrent_tasks",
            5,
            inferred("the concurrency depends on the resource pack bought; 5 tasks in submitted/processing"),
        ),
        Setting(
            "jwt_leeway_seconds",
            5,
            inferred("exp/nbf are judged on the wall clock; 5 s either side absorbs clock skew"),
        ),
        Setting(
            "default_balance",
            1000,
            inferred("a new account holds one decreasing_total pack of 1,000 units"),
        ),
        Setting(
            "resource_pack_days",
            365,
            inferred("a pack's invalid_time is undocumented; a year after purchase"),
        ),
    ),
)


def task_object(job: JobView) -> dict[str, Any]:
    """The flat task object a callback carries."""
    return render.task(job)


__all__ = ["SPEC"]
