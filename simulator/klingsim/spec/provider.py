"""The whole description of one provider, and the small pure hooks for shapes that can't be declared."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from klingsim.spec.auth import AuthSpec, JwtHs256
from klingsim.spec.constraints import Facts, first_broken
from klingsim.spec.doc import DocRef
from klingsim.spec.errors import Envelope, ErrorRole, ErrorSpec
from klingsim.spec.lifecycle import TERMINAL_PHASES, Lifecycle, Phase
from klingsim.spec.params import Param, Variant
from klingsim.spec.pricing import PriceTable
from klingsim.spec.shapes import Shape


class Action(StrEnum):
    """What an operation does; the engine implements each kind once for every provider, and a provider
    may declare any number of operations of one kind (several creates, one status path per task kind)."""

    CREATE = "create"  # submit a job (answers the queued job, or the finished one when it waits)
    STATUS = "status"  # one job, found by an id in the path or the query
    RESULT = "result"  # one finished job's result (fal's response_url); pending jobs answer their status
    CANCEL = "cancel"  # end a job that has not finished; its money is released or refunded
    LIST = "list"  # the account's jobs (of the creates named by `jobs_of`)
    BALANCE = "balance"  # the account's balance (credits, resource packs)
    USAGE = "usage"  # balance and usage events
    MODELS = "models"  # the models the provider serves
    DOWNLOAD = "download"  # an output file (served by the engine under /_klingsim/files)


@dataclass(frozen=True, slots=True)
class BodySpec:
    """A JSON request body and its variants (one per model or task type).

    `discriminator` names what picks the variant: a body field (`discriminator_in="body"`, e.g. `model`), or a
    path parameter of the operation (`discriminator_in="path"`, e.g. fal's `{model_id:path}`). An unknown
    name answers `unknown_variant_error` (default: the VALIDATION role, or UNKNOWN_MODEL for a path).
    """

    variants: tuple[Variant, ...]
    discriminator: str = ""
    unknown_variant_error: str = ""
    discriminator_in: str = "body"
    # Constraints on the normalised body, judged before the variant is chosen (Prospolabs' `params` object).
    checks: tuple[Any, ...] = ()

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One operation: its kind, method and path template, and what it reads and answers.

    Path templates: `{name}` matches one segment, `{name:path}` one or more (fal's model ids hold slashes).
    `name` identifies the operation within the provider (OpenAPI operationId `<provider>_<name>`; default the
    kind). Operations that find a job (status, result, cancel) read its id from `id_param` in the path or the
    query (`id_in`); `id_fields` are request fields that also identify a job of the account (Kling's
    `external_task_id`); `jobs_of` limits them (and LIST) to the jobs of the named create operations.
    `pending_status` is the HTTP status while the job has not finished (fal answers 202 until COMPLETED).
    `roles` overrides the provider's roles for this operation (fal's cancel answers its own not-found body).
    `render` replaces the provider's hook for this operation's success body, `headers` adds headers to it.
    `response` declares the success body's shape (its OpenAPI schema, and what renders must conform to).
    `wait`: a create that answers the finished job (fal's synchronous host), bounded like `Plan.wait`.
    `cancellable`: the phases in which CANCEL succeeds; `cancel_error` the (code, message) the job ends with.
    `unique_fields`: a create refuses a value another job of the account already has (`external_task_id`).
    """

    action: Action
    method: str
    path: str
    doc: DocRef
    summary: str
    body: BodySpec | None = None
    id_param: str = ""
    id_in: str = "path"
    query: tuple[Param, ...] = ()
    errors: tuple[str, ...] = ()
    success_status: int = 200
    name: str = ""
    id_fields: tuple[str, ...] = ()
    jobs_of: tuple[str, ...] = ()
    pending_status: int | None = None
    roles: Mapping[ErrorRole, str] = field(default_factory=dict)
    render: Callable[[JobView], dict[str, Any]] | None = None
    headers: Callable[[JobView], Mapping[str, str]] | None = None
    response: Shape | None = None
    wait: bool = False
    cancellable: frozenset[Phase] = frozenset({Phase.QUEUED})
    cancel_error: tuple[str, str] = ("cancelled", "Cancelled by the caller")
    unique_fields: tuple[str, ...] = ()  # request fields no two jobs of an account may share (VALIDATION)
    check_query: bool = (
        False  # the engine validates the declared `query` params (LIST paging) before rendering
    )

    @property
    def op_id(self) -> str:
        return self.name or str(self.action)

    def role(self, spec_roles: Mapping[ErrorRole, str], role: ErrorRole) -> str:
        """The error code this operation answers for `role`."""
        return self.roles.get(role) or spec_roles[role]


Operation = Endpoint


@dataclass(frozen=True, slots=True)
class Concurrency:
    """At most `max_jobs` unfinished jobs per account (Kling 1303, fal 429); one more answers `error`
    (default: the TOO_MANY_JOBS role)."""

    max_jobs: int
    doc: DocRef
    error: str = ""
    setting: str = "max_concurrent_jobs"  # the Setting overriding `max_jobs` (Kling: max_concurrent_tasks)


@dataclass(frozen=True, slots=True)
class IdFormat:
    """Job ids: one template per id family (`{hex:N}`, `{alnum:N}` lowercase, `{unix}`) and the shape a
    valid id must have."""

    templates: Mapping[str, str]
    pattern: str
    doc: DocRef
    malformed_error: str = ""  # an id not of `pattern` answers this error (EvoLink); empty: not found


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Output URL lifetime and what a request after expiry gets."""

    lifetime_seconds: int
    expired_status: int
    doc: DocRef
    expired_body: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests: int
    per_seconds: int
    doc: DocRef
    scope: str = "key"


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """Who gets told when a job changes, and how delivery is retried.

    `phases`: the transitions that call back (default: the job's end; Kling also posts `processing`).
    The body is `hooks.render_callback` (its JobView carries the outputs' byte counts), else the status.
    """

    field: str
    doc: DocRef
    https_only: bool = True
    refuse_private: bool = True
    max_length: int = 2048
    timeout_seconds: float = 10.0
    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    error: str = ""
    phases: frozenset[Phase] = TERMINAL_PHASES


@dataclass(frozen=True, slots=True)
class Setting:
    """A value no page documents, named so users can see and change it."""

    name: str
    value: Any
    doc: DocRef
    description: str = ""


class Violation(Exception):
    """The request breaks a documented rule; `code` names an error of the provider's catalogue."""

    def __init__(
        self, code: str, message: str = "", param: str | None = None, constraint: str | None = None
    ) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.param = param
        self.constraint = constraint  # the id of the broken constraint or field rule, when one was


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """What the finished job's video will be."""

    aspect_ratio: str
    lines: int
    seconds: float
    audio: bool
    count: int = 1


@dataclass(frozen=True, slots=True)
class Plan:
    """What a valid request costs and produces, computed by the provider's `plan` hook.

    `wait`: the create answers the finished job (a synchronous API, Prospolabs), not the queued one; the
    wait is bounded by the provider's `sync_wait_seconds` setting.
    """

    price_key: Mapping[str, Any]
    billed_seconds: float
    output: OutputPlan
    id_family: str = "default"
    extra: Mapping[str, Any] = field(default_factory=dict)
    wait: bool = False


@dataclass(slots=True)  # not frozen, for speed: see core.http.Request
class JobView:
    """A snapshot of a job, for the provider's response hooks (made for each answer; changing it changes
    nothing held).

    `origin` is the scheme and host the request came to; `base_url` adds the provider's mount (absolute URLs
    such as fal's `status_url`); `operation` the create operation that made the job; `query` the query
    parameters of the request being answered (fal's `?logs=1`).
    """

    id: str
    variant: str
    phase: Phase
    status: str
    progress: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    request: Mapping[str, Any]
    outputs: tuple[str, ...]
    cost: Decimal
    plan: Plan
    error_code: str | None
    error_message: str | None
    settings: Mapping[str, Any]
    planned_seconds: float = 0.0  # creation to planned end (queue + render), drawn when the job was created
    origin: str = ""
    operation: str = ""
    base_url: str = ""
    query: Mapping[str, str] = field(default_factory=dict)
    output_bytes: tuple[int, ...] = ()  # each output's size, for answers that state it (fal's file_size)


@dataclass(frozen=True, slots=True)
class AccountView:
    provider: str
    key: str
    balance: Decimal
    spent: Decimal
    # Ledger entries as JSON; a balance answer's view holds only the top-ups and adjustments (O(1) answers).
    entries: tuple[Mapping[str, Any], ...]
    settings: Mapping[str, Any]
    jobs: tuple[JobView, ...] = ()  # the account's jobs, oldest first (EmpirioLabs' usage events)


@dataclass(frozen=True, slots=True)
class SyncWait:
    """A create that answers the finished job (Prospolabs' synchronous call): renders up to `max_seconds`
    end before the answer; a failed one answers `failure_status` (0: the operation's success status)."""

    max_seconds: float
    doc: DocRef
    failure_status: int = 0


Planner = Callable[[str, dict[str, Any], Mapping[str, Any]], Plan]


@dataclass(frozen=True, slots=True)
class Hooks:
    """Pure functions for what can't be declared: request normalisation, derived values, planning, and
    response bodies. None of them validates: rules are declared (Param, RequiredWhen, spec.constraints).

    `derive(variant, request, settings)` computes values constraints read as `@name` (parsed scenes, a
    resolved workflow); `plan` turns a valid request into its price key, billed seconds and output.
    """

    plan: Planner
    render_created: Callable[[JobView], dict[str, Any]]
    render_job: Callable[[JobView], dict[str, Any]]
    normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    render_balance: Callable[[AccountView], dict[str, Any]] | None = None
    render_usage: Callable[[AccountView, Mapping[str, str]], dict[str, Any]] | None = None
    render_models: Callable[[], dict[str, Any]] | None = None
    render_result: Callable[[JobView], dict[str, Any]] | None = None
    render_cancel: Callable[[JobView], dict[str, Any]] | None = None
    render_list: Callable[[AccountView, Mapping[str, str]], dict[str, Any]] | None = None
    derive: Callable[[str, dict[str, Any], Mapping[str, Any]], dict[str, Any]] | None = None
    # The body POSTed to a job's callback URL (default: `render_job`): fal's {request_id, status, payload}.
    render_callback: Callable[[JobView], dict[str, Any]] | None = None
    # The `plan` as declared (pure); `plan` itself is wrapped to check the constraints first, for callers
    # that plan a body without evaluating it (the contract kit, until it calls klingsim.core.evaluate).
    planner: Planner | None = None


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    id: str
    title: str
    base_url: str
    hosts: tuple[str, ...]
    docs: tuple[DocRef, ...]
    models: tuple[str, ...]
    auth: AuthSpec
    endpoints: tuple[Endpoint, ...]
    errors: tuple[ErrorSpec, ...]
    envelope: Envelope
    roles: Mapping[ErrorRole, str]
    lifecycle: Lifecycle
    prices: PriceTable
    urls: UrlPolicy
    ids: IdFormat
    hooks: Hooks
    rate_limit: RateLimit | None = None
    callbacks: CallbackPolicy | None = None
    settings: tuple[Setting, ...] = ()
    concurrency: Concurrency | None = None
    sync: SyncWait | None = None

    def __post_init__(self) -> None:
        if self.hooks.planner is None:
            checked = _checked_planner(self.endpoints, self.hooks.plan, self.hooks.derive)
            object.__setattr__(
                self, "hooks", dataclasses.replace(self.hooks, plan=checked, planner=self.hooks.plan)
            )

    @property
    def planner(self) -> Planner:
        """The pure plan hook (no checks)."""
        assert self.hooks.planner is not None
        return self.hooks.planner

    def operations(self, action: Action | None = None) -> tuple[Endpoint, ...]:
        """Every operation (of one kind), in declaration order."""
        return tuple(e for e in self.endpoints if action is None or e.action is action)

    def operation(self, name: str) -> Endpoint:
        """The operation named `name` (its `name`, or its kind when it has none)."""
        for e in self.endpoints:
            if e.op_id == name:
                return e
        raise KeyError(f"{self.id} has no operation {name!r}; known: {[e.op_id for e in self.endpoints]}")

    def error(self, code: str) -> ErrorSpec:
        for err in self.errors:
            if err.code == code:
                return err
        raise KeyError(f"{self.id} has no error {code!r}")

    def role(self, role: ErrorRole) -> ErrorSpec:
        return self.error(self.roles[role])

    def endpoint(self, action: Action) -> Endpoint:
        """The first operation of a kind (kept for callers written when there was one per kind; a
        provider may declare several creates: use `operations(action)`)."""
        return next(e for e in self.endpoints if e.action is action)

    def setting_values(self) -> dict[str, Any]:
        return {s.name: s.value for s in self.settings}

    def with_settings(self, overrides: Mapping[str, Any]) -> ProviderSpec:
        """A copy with some inferred settings changed; unknown names are an error, not ignored."""
        known = {s.name for s in self.settings}
        unknown = set(overrides) - known
        if unknown:
            raise KeyError(f"{self.id} has no settings {sorted(unknown)}; known: {sorted(known)}")
        settings = tuple(
            dataclasses.replace(s, value=overrides[s.name]) if s.name in overrides else s
            for s in self.settings
        )
        return _write_through(dataclasses.replace(self, settings=settings), overrides)


def _write_through(spec: ProviderSpec, overrides: Mapping[str, Any]) -> ProviderSpec:
    """Apply settings to the typed fields they override, so the simulator, its OpenAPI document and the
    contract kit read one value: `create_success_status` is every create's success status,
    `status_word_<phase>` that phase's word, and so on (`WRITES_THROUGH` lists them)."""
    changes: dict[str, Any] = {}
    words = {p: overrides.get(f"status_word_{p}", w) for p, w in spec.lifecycle.words.items()}
    changes["lifecycle"] = dataclasses.replace(spec.lifecycle, words=words)
    if "create_success_status" in overrides:
        status = int(overrides["create_success_status"])
        changes["endpoints"] = tuple(
            dataclasses.replace(e, success_status=status) if e.action is Action.CREATE and not e.wait else e
            for e in spec.endpoints
        )
    prices: dict[str, Any] = {}
    if "default_balance" in overrides:
        prices["default_balance"] = Decimal(str(overrides["default_balance"]))
    if "refund_failed_jobs" in overrides:
        prices["refund_on_failure"] = bool(overrides["refund_failed_jobs"])
    if prices:
        changes["prices"] = dataclasses.replace(spec.prices, **prices)
    if "output_url_lifetime_seconds" in overrides:
        lifetime = int(overrides["output_url_lifetime_seconds"])
        changes["urls"] = dataclasses.replace(spec.urls, lifetime_seconds=lifetime)
    if "malformed_id_error" in overrides:
        changes["ids"] = dataclasses.replace(spec.ids, malformed_error=str(overrides["malformed_id_error"]))
    if spec.sync is not None and ("sync_wait_seconds" in overrides or "sync_failure_status" in overrides):
        changes["sync"] = dataclasses.replace(
            spec.sync,
            max_seconds=float(overrides.get("sync_wait_seconds", spec.sync.max_seconds)),
            failure_status=int(overrides.get("sync_failure_status", spec.sync.failure_status)),
        )
    if spec.concurrency is not None and spec.concurrency.setting in overrides:
        changes["concurrency"] = dataclasses.replace(
            spec.concurrency, max_jobs=int(overrides[spec.concurrency.setting])
        )
    jwt = spec.auth.signed
    if jwt is not None and "jwt_leeway_seconds" in overrides:
        leeway = float(overrides["jwt_leeway_seconds"])
        schemes = tuple(
            dataclasses.replace(s, leeway_seconds=leeway) if isinstance(s, JwtHs256) else s
            for s in spec.auth.accepted
        )
        changes["auth"] = dataclasses.replace(spec.auth, schemes=schemes)
    return dataclasses.replace(spec, **changes)


# Settings that change a typed field of the spec (see `_write_through`).
WRITES_THROUGH = (
    "create_success_status",
    "default_balance",
    "refund_failed_jobs",
    "output_url_lifetime_seconds",
    "malformed_id_error",
    "sync_wait_seconds",
    "sync_failure_status",
    "max_concurrent_jobs (or the name Concurrency.setting gives)",
    "jwt_leeway_seconds",
    "status_word_<phase>",
)


def _checked_planner(
    endpoints: tuple[Endpoint, ...], plan: Planner, derive: Callable[..., dict[str, Any]] | None
) -> Planner:
    """`plan` preceded by the variant's declared constraints (see `Hooks.planner`)."""
    variants = {v.name: v for e in endpoints if e.body is not None for v in e.body.variants}

    def checked(variant: str, body: dict[str, Any], settings: Mapping[str, Any]) -> Plan:
        declared = variants.get(variant)
        if declared is not None and declared.constraints:
            derived = derive(variant, body, settings) if derive is not None else {}
            facts = Facts(body, derived, settings.get("input_seconds", {}), settings)
            found = first_broken(declared.constraints, facts)
            if found is not None:
                constraint, (message, param) = found
                raise Violation(constraint.error, message, param, constraint.id)
        return plan(variant, body, settings)

    return checked
