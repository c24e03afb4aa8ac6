"""The simulator: every provider's endpoints, answered from its spec, on one clock, ledger and job engine.

This is the whole behaviour; the server module only converts HTTP to `Request` and `Response` values.
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from klingsim.core import auth, compact, controls, edge, evaluate, hints, inputs
from klingsim.core.accounts import DEFAULT_MAX_AUTO_KEYS, KeyRegistry, TooManyKeys
from klingsim.core.callbacks import CallbackDispatcher, Transport, httpx_transport
from klingsim.core.clock import Clock, VirtualClock, to_datetime
from klingsim.core.evaluated import Evaluated, EvaluatedCreates
from klingsim.core.faults import FaultRegistry
from klingsim.core.http import MAX_BODY_BYTES, Request, Response
from klingsim.core.ids import UUID4, IdGenerator
from klingsim.core.jobs import Job, JobEngine
from klingsim.core.journal import DEFAULT_SIZE, Journal
from klingsim.core.ledger import InsufficientFunds, Ledger
from klingsim.core.ratelimit import Limit, RateLimiter
from klingsim.core.routing import Match, Router
from klingsim.core.signing import OUTPUTS_PREFIX, OutputRef, UrlSigner
from klingsim.core.store import MemoryStore, Store
from klingsim.spec import (
    TERMINAL_PHASES,
    AccountView,
    Action,
    AuthFailure,
    Endpoint,
    ErrorRole,
    JobView,
    Phase,
    ProviderSpec,
    Settlement,
    Variant,
    Violation,
    fill_envelope,
)

if TYPE_CHECKING:
    from klingsim.core.media import MediaCache, MediaFile

# A prompt containing this marker makes its job fail after it runs, like a payment simulator's test cards.
FAIL_MARKER = re.compile(r"\[klingsim:fail=([A-Za-z0-9_.-]+)\]")
# ASCII digits only: `\d` would also take other scripts' digits, and int() of thousands of them fails.
_FILE_PATH = re.compile(
    rf"^{OUTPUTS_PREFIX}/(?P<provider>[\w-]+)/(?P<job>[\w.-]+)/(?P<index>[0-9]{{1,6}})\.mp4$"
)


def _wall() -> float:
    return time.perf_counter()


Gate = Callable[["Simulator", "Runtime", Endpoint, Request, str], Response | None]


class Runtime:
    """One provider as configured for this simulator: its spec (with settings applied) and its router."""

    def __init__(self, spec: ProviderSpec) -> None:
        self.spec = spec
        self.router = Router(spec)
        # Settings that override a typed field were written through to it (ProviderSpec.with_settings).
        self.settings = spec.setting_values()
        self.url_lifetime = spec.urls.lifetime_seconds
        self.id_shape = re.compile(spec.ids.pattern)
        self.id_malformed_error = spec.ids.malformed_error
        self.default_balance = spec.prices.default_balance
        self.refund_failed = spec.prices.refund_on_failure
        # Synchronous creates (Plan.wait): the longest render answered finished; the status of a failed one.
        self.sync_wait = spec.sync.max_seconds if spec.sync is not None else math.inf
        self.sync_failure_status = spec.sync.failure_status if spec.sync is not None else 0
        self.several_creates = len(spec.operations(Action.CREATE)) > 1
        self.evaluated = EvaluatedCreates()


class Simulator:
    def __init__(
        self,
        specs: Iterable[ProviderSpec],
        clock: Clock | None = None,
        *,
        seed: int = 0,
        strict_keys: bool = False,
        strict_fields: bool = False,
        secret: bytes | None = None,
        max_finished_jobs: int = 100_000,
        journal_size: int = DEFAULT_SIZE,
        allow_http_callbacks: bool = False,
        default_rate_limit: Limit | None = None,
        rate_limits: Mapping[str, Limit | None] | None = None,
        store: Store | None = None,
        callback_transport: Transport | None = None,
        wall_clock: Callable[[], float] | None = None,
        max_auto_keys: int = DEFAULT_MAX_AUTO_KEYS,
    ) -> None:
        self.clock: Clock = clock if clock is not None else VirtualClock()
        # JWT `exp`/`nbf` are judged on the wall clock: tokens are minted by real clocks (official Kling).
        self.wall: Callable[[], float] = wall_clock if wall_clock is not None else time.time
        self.seed = seed
        self.strict_fields = strict_fields  # unknown body fields: a validation error, not only a hint
        self.runtimes = {spec.id: Runtime(spec) for spec in specs}
        self.store: Store = store if store is not None else MemoryStore()
        self.keys = KeyRegistry(strict=strict_keys, on_add=self.store.save_key, max_auto_keys=max_auto_keys)
        self.keys.on_secret = self.store.save_secret
        self.ledger = Ledger(on_append=self.store.save_entry)
        self.engine = JobEngine(self.clock, seed=seed, max_finished=max_finished_jobs)
        self.engine.listeners.append(self._settle)
        self.engine.evict_listeners.append(self._forget)
        self.ids = IdGenerator(seed)
        self.answer_ids = IdGenerator(seed, stream="answers")
        self.signer = UrlSigner(secret if secret is not None else self.store.url_secret())
        self.gates: list[Gate] = [controls.rate_limit_gate]
        self._media: MediaCache | None = None  # see `media`
        self._media_lock = threading.Lock()
        # Control plane: faults, journal, rate limits (spec's, overridden per provider, else the default;
        # None in `rate_limits` switches a provider's off), callbacks (delivered after billing settled).
        self.faults = FaultRegistry(seed)
        self.journal = Journal(journal_size)
        self.rate_limiter = RateLimiter()
        self.default_rate_limit = default_rate_limit
        self.rate_limits: dict[str, Limit | None] = dict(rate_limits or {})
        self.allow_http_callbacks = allow_http_callbacks
        transport = callback_transport or httpx_transport(allow_internal=allow_http_callbacks)
        self.callbacks = CallbackDispatcher(transport, on_change=self.store.save_delivery)
        self.engine.listeners.append(lambda job, phase: controls.after_transition(self, job, phase))
        if self.store.persistent:
            with self.store.transaction():
                controls.restore(self)

    # ----------------------------------------------------------------- provider requests
    def handle(self, provider_id: str, req: Request) -> Response:
        """A provider request: faults, journal and persistence around `_dispatch`."""
        return controls.handle(self, provider_id, req)

    def _dispatch(self, rt: Runtime, req: Request, match: Match | None) -> Response:
        """Answer a request already routed (`match` is None for an unknown path) by `controls.handle`."""
        self.engine.tick()
        if match is None:
            return self.error(
                rt, rt.spec.roles[ErrorRole.ROUTE_NOT_FOUND], f"No route for {req.method} {req.path}"
            )
        if match.endpoint is None:
            allow = ", ".join(match.allowed)
            return self.error(
                rt,
                rt.spec.roles[ErrorRole.METHOD_NOT_ALLOWED],
                f"Method {req.method} is not allowed on {req.path}; allowed: {allow}",
                headers=(("allow", allow),),
            )
        endpoint = match.endpoint
        try:
            account = self._authenticate(rt, req)
            for gate in self.gates:
                answer = gate(self, rt, endpoint, req, account)
                if answer is not None:
                    return answer
            action = endpoint.action
            if action is Action.CREATE:
                return self._create(rt, endpoint, req, account, match.path_params)
            if action in (Action.STATUS, Action.RESULT, Action.CANCEL):
                job_id = (
                    match.path_params.get(endpoint.id_param)
                    if endpoint.id_in == "path"
                    else req.query.get(endpoint.id_param)
                )
                return self._job_operation(rt, endpoint, req, account, job_id)
            return self._account_action(rt, endpoint, req, account)
        except Violation as violation:
            return self.error(rt, violation.code, violation.message, violation.param)

    def _authenticate(self, rt: Runtime, req: Request) -> str:
        """The account of the request's credential, read by the provider's declared schemes."""
        spec = rt.spec
        try:
            credential = auth.read_credential(spec.auth, req.headers)
            key = credential.key
            account = self.keys.account_of(spec.id, key)
            if credential.token is not None:
                self._verify_token(rt, credential.token, key, account)
        except auth.AuthError as failed:
            raise Violation(self._auth_error(rt, failed.failure), failed.message) from None
        if account is not None:
            return account
        if self.keys.strict or not spec.auth.valid_format(key):
            raise Violation(self._auth_error(rt, AuthFailure.UNKNOWN_KEY))
        try:
            account = self.keys.provision(spec.id, key)
        except TooManyKeys as full:
            raise Violation(self._auth_error(rt, AuthFailure.UNKNOWN_KEY), str(full)) from None
        if not self.ledger.exists(spec.id, account):
            self.ledger.set_balance(spec.id, account, rt.default_balance, self.clock.now())
        return account

    def _verify_token(self, rt: Runtime, token: auth.Token, key: str, account: str | None) -> None:
        """A signed token: its signature when the key's secret is known (always, under --strict-keys), then
        its `nbf`/`exp` on the wall clock."""
        secret = self.keys.secret_of(rt.spec.id, key)
        if secret is None and self.keys.strict:
            raise auth.AuthError(
                AuthFailure.UNKNOWN_KEY if account is None else AuthFailure.BAD_SIGNATURE,
                "the key is not registered" if account is None else "the key has no registered secret",
            )
        if secret is not None and not auth.signature_ok(token, secret):
            raise auth.AuthError(AuthFailure.BAD_SIGNATURE, "the token's signature does not verify")
        auth.check_times(token, self.wall())

    def _auth_error(self, rt: Runtime, failure: AuthFailure) -> str:
        spec = rt.spec
        code = spec.auth.errors.get(failure)
        if code:
            return code
        return spec.roles[ErrorRole.MISSING_KEY if failure is AuthFailure.MISSING else ErrorRole.INVALID_KEY]

    def _parse_body(self, rt: Runtime, req: Request) -> dict[str, Any]:
        roles = rt.spec.roles
        if req.truncated or len(req.body) > MAX_BODY_BYTES:
            raise Violation(
                roles[ErrorRole.BODY_TOO_LARGE], f"Request body is larger than {MAX_BODY_BYTES} bytes"
            )
        ctype = req.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if ctype and ctype != "application/json" and not ctype.endswith("+json"):
            raise Violation(
                roles[ErrorRole.MALFORMED_BODY], f"Content-Type must be application/json, not {ctype}"
            )
        if not req.body.strip():
            raise Violation(
                roles[ErrorRole.MALFORMED_BODY], "Request body is empty; a JSON object is required"
            )
        try:
            body = edge.parse_json(req.body)
        except edge.EdgeError as refused:
            role = ErrorRole.MALFORMED_BODY if refused.malformed else ErrorRole.VALIDATION
            raise Violation(roles[role], refused.message) from None
        if not isinstance(body, dict):
            raise Violation(roles[ErrorRole.MALFORMED_BODY], "Request body must be a JSON object")
        return body

    def _create(
        self, rt: Runtime, endpoint: Endpoint, req: Request, account: str, path_params: Mapping[str, str]
    ) -> Response:
        spec = rt.spec
        found = self._evaluate_create(rt, endpoint, req, path_params)
        variant, plan, price = found.variant, found.plan, found.price
        request = dict(found.request)
        wait = plan.wait or endpoint.wait
        now = self.clock.now()
        if spec.concurrency is not None:
            self._admit_concurrent(rt, account)
        for name in endpoint.unique_fields:
            self._refuse_reused(rt, account, name, request.get(name))
        job_id = self._new_id(rt, plan.id_family, now)
        hold = spec.prices.settlement is Settlement.HOLD_THEN_CAPTURE
        try:
            self.ledger.debit(spec.id, account, job_id, price, now, hold=hold)
        except InsufficientFunds as short:
            raise Violation(
                spec.roles[ErrorRole.INSUFFICIENT_FUNDS],
                f"{spec.error(spec.roles[ErrorRole.INSUFFICIENT_FUNDS]).message}: this request costs "
                f"{price} {spec.prices.unit}, the balance is {short.balance}",
            ) from None
        queued, work = self.engine.schedule(spec.lifecycle, request, plan.output.seconds)
        job = Job(
            id=job_id,
            provider=spec.id,
            account=account,
            variant=variant.name,
            request=request,
            plan=plan,
            cost=price,
            created_at=now,
            run_at=now if wait else now + queued,  # a synchronous call is worked on at once
            finish_at=now + queued + work,
        )
        if rt.several_creates:
            job.meta["operation"] = endpoint.op_id
        prompt = request.get("prompt")
        marker = FAIL_MARKER.search(prompt) if isinstance(prompt, str) else None
        if marker is not None:
            job.planned_failure = (
                marker.group(1),
                "Generation failed (requested by a klingsim prompt marker)",
            )
        # A synchronous answer carries the result itself: callbacks are for asynchronous jobs (Prospolabs:
        # "Receive a callback when async generation completes", https://helios-7yg.pages.dev/docs/).
        controls.prepare_job(self, rt, job, None if wait else found.callback_url, req.origin)
        if req.mount and job.noted("origin") is not None:
            job.meta["mount"] = req.mount  # callbacks render absolute URLs under the mount too
        self.engine.add(job)
        self.store.save_job(job)
        self.engine.tick()
        if wait:
            return self._answer_waited(rt, endpoint, job, req)
        view = self.view(rt, job, req.origin, req.mount, req.query)
        render = endpoint.render or spec.hooks.render_created
        return Response(endpoint.success_status, render(view), self._op_headers(endpoint, view))

    def _evaluate_create(
        self, rt: Runtime, endpoint: Endpoint, req: Request, path_params: Mapping[str, str]
    ) -> Evaluated:
        """What a create body asks for and costs (raises its first Violation); an identical request's
        evaluation is reused (core.evaluated)."""
        key = rt.evaluated.key(endpoint, req, path_params, self.strict_fields, self.allow_http_callbacks)
        kept = rt.evaluated.get(key)
        if kept is not None:
            hints.note(kept.hints)
            return kept
        spec = rt.spec
        noted_before = len(hints.pending())
        body = self._parse_body(rt, req)

        def look(variant: Variant, fields: Mapping[str, Any]) -> None:
            hints.check_fields(rt, endpoint, variant, fields, self.strict_fields)

        read = evaluate.read_request(
            spec,
            endpoint,
            body,
            req.query,
            path_params,
            self.allow_http_callbacks,
            look=look,
        )
        variant, request = read.variant, read.request
        probed = inputs.inspect(self, rt, variant, request)
        # Hooks see the settings, plus the probed seconds of inputs that are klingsim outputs (core.inputs).
        _, plan = evaluate.conclude(spec, variant, request, {**rt.settings, "input_seconds": probed}, probed)
        plan = compact.plan(plan)  # shared with equal plans of other jobs; its price is then computed once
        price = compact.price(spec.prices, plan)
        found = Evaluated(variant, request, read.callback_url, plan, price, hints.pending()[noted_before:])
        if not inputs.reads_media(variant, request):
            rt.evaluated.keep(key, found)
        return found

    def _admit_concurrent(self, rt: Runtime, account: str) -> None:
        """TOO_MANY_JOBS when the account already has as many unfinished jobs as it may."""
        limit = rt.spec.concurrency
        assert limit is not None
        spec_id = rt.spec.id
        running = sum(
            1 for j in self.engine.jobs() if j.provider == spec_id and j.account == account and not j.terminal
        )
        if running >= limit.max_jobs:
            code = limit.error or rt.spec.roles[ErrorRole.TOO_MANY_JOBS]
            raise Violation(code, f"at most {limit.max_jobs} unfinished jobs per account")

    def _refuse_reused(self, rt: Runtime, account: str, name: str, value: Any) -> None:
        if value is None:
            return
        spec_id = rt.spec.id
        if any(
            j.provider == spec_id and j.account == account and j.request.get(name) == value
            for j in self.engine.jobs()
        ):
            raise Violation(
                rt.spec.roles[ErrorRole.VALIDATION],
                f"{name} {value!r} is already used by another task of this account",
                name,
                f"{name}:unique",
            )

    @staticmethod
    def _op_headers(endpoint: Endpoint, view: JobView) -> tuple[tuple[str, str], ...]:
        if endpoint.headers is None:
            return ()
        return tuple((k.lower(), v) for k, v in endpoint.headers(view).items())

    def _answer_waited(self, rt: Runtime, endpoint: Endpoint, job: Job, req: Request) -> Response:
        """A synchronous create: the job ends before the answer when its render fits in the wait bound.

        The core never blocks: the job ends at once on the clock and `JobView.planned_seconds` says how long
        it rendered. A render longer than the bound is answered as it stands (then polled).
        """
        if job.finish_at - job.created_at <= rt.sync_wait:
            self.engine.finish(job, job.planned_failure)
        failed = job.phase is Phase.FAILED and rt.sync_failure_status
        status = rt.sync_failure_status if failed else endpoint.success_status
        view = self.view(rt, job, req.origin, req.mount, req.query, sized=endpoint.wait)
        render = endpoint.render or rt.spec.hooks.render_job
        return Response(status, render(view), self._op_headers(endpoint, view))

    def _new_id(self, rt: Runtime, family: str, now: float) -> str:
        template = rt.spec.ids.templates[family]
        while True:
            job_id = self.ids.make(template, now)
            if self.engine.get(rt.spec.id, job_id) is None:
                return job_id

    def _job_operation(
        self, rt: Runtime, endpoint: Endpoint, req: Request, account: str, job_id: str | None
    ) -> Response:
        """STATUS, RESULT or CANCEL of one job of the account, found by the id the operation reads."""
        spec = rt.spec
        if not job_id:
            raise Violation(
                spec.roles[ErrorRole.VALIDATION], f"{endpoint.id_param} is required", param=endpoint.id_param
            )
        job = self.find_job(rt, job_id, account, endpoint)
        hooks = spec.hooks
        if endpoint.action is Action.CANCEL:
            if job.phase not in endpoint.cancellable:
                code = endpoint.role(spec.roles, ErrorRole.ALREADY_FINISHED)
                raise Violation(code, f"{job_id} can no longer be cancelled")
            self.engine.finish(job, endpoint.cancel_error)
            view = self.view(rt, job, req.origin, req.mount, req.query)
            render = endpoint.render or hooks.render_cancel or hooks.render_job
            return Response(endpoint.success_status, render(view), self._op_headers(endpoint, view))
        sized = endpoint.action is Action.RESULT and job.phase is Phase.SUCCEEDED
        view = self.view(rt, job, req.origin, req.mount, req.query, sized)
        if job.phase in TERMINAL_PHASES or endpoint.pending_status is None:
            status = endpoint.success_status
        else:
            status = endpoint.pending_status
        if endpoint.action is Action.RESULT:
            if job.phase is Phase.FAILED:
                code = job.error[0] if job.error else ""
                known = {e.code for e in spec.errors}
                return self.error(
                    rt, code if code in known else spec.roles[ErrorRole.INTERNAL], view.error_message
                )
            if job.phase is Phase.SUCCEEDED:
                render = endpoint.render or hooks.render_result or hooks.render_job
                return Response(status, render(view), self._op_headers(endpoint, view))
            return Response(status, hooks.render_job(view))
        render = endpoint.render or hooks.render_job
        return Response(status, render(view), self._op_headers(endpoint, view))

    def find_job(
        self, rt: Runtime, job_id: str, account: str | None, endpoint: Endpoint | None = None
    ) -> Job:
        """The job, if it exists and belongs to `account` (None: any) and to the creates the operation
        reads (`jobs_of`), found by its id or an `id_fields` value; otherwise the provider's not-found."""
        spec = rt.spec
        if rt.id_shape.fullmatch(job_id) is None and rt.id_malformed_error:
            raise Violation(rt.id_malformed_error, f"Invalid task id: {job_id}", param="task_id")
        job = self.engine.get(spec.id, job_id)
        if job is None and endpoint is not None and endpoint.id_fields and account is not None:
            job = next(
                (
                    j
                    for j in self.engine.jobs()
                    if j.provider == spec.id
                    and j.account == account
                    and any(j.field(f) == job_id for f in endpoint.id_fields)
                ),
                None,
            )
        if job is not None and endpoint is not None and endpoint.jobs_of:
            made_by = job.noted("operation", spec.operations(Action.CREATE)[0].op_id)
            job = job if made_by in endpoint.jobs_of else None
        if job is None or (account is not None and job.account != account):
            code = (
                endpoint.role(spec.roles, ErrorRole.NOT_FOUND)
                if endpoint
                else spec.roles[ErrorRole.NOT_FOUND]
            )
            raise Violation(code, f"{job_id} does not exist")
        return job

    def _account_action(self, rt: Runtime, endpoint: Endpoint, req: Request, account: str) -> Response:
        hooks = rt.spec.hooks
        if endpoint.check_query:
            evaluate.check_query(rt.spec, endpoint, req.query)
        if endpoint.action is Action.MODELS and hooks.render_models is not None:
            return Response(200, hooks.render_models())
        # Only the usage and list answers list jobs; balance answers stay O(1) however many jobs exist.
        with_jobs = endpoint.action in (Action.USAGE, Action.LIST)
        # A balance answer sees only the top-ups and adjustments (Kling's resource pack reads the last one):
        # O(1) in the account's jobs, where listing every entry would grow with the ledger.
        balance_only = endpoint.action is Action.BALANCE
        view = self.account_view(rt.spec.id, account, req.origin if with_jobs else None, balance_only)
        if endpoint.action is Action.BALANCE and hooks.render_balance is not None:
            return Response(endpoint.success_status, hooks.render_balance(view))
        if endpoint.action is Action.USAGE and hooks.render_usage is not None:
            return Response(200, hooks.render_usage(view, req.query))
        if endpoint.action is Action.LIST and hooks.render_list is not None:
            if endpoint.jobs_of:
                first = rt.spec.operations(Action.CREATE)[0].op_id
                kept = tuple(j for j in view.jobs if (j.operation or first) in endpoint.jobs_of)
                view = dataclasses.replace(view, jobs=kept)
            return Response(endpoint.success_status, hooks.render_list(view, req.query))
        return self.error(
            rt, rt.spec.roles[ErrorRole.ROUTE_NOT_FOUND], f"No route for {req.method} {req.path}"
        )

    # ----------------------------------------------------------------- views and errors
    def view(
        self,
        rt: Runtime,
        job: Job,
        origin: str,
        mount: str = "",
        query: Mapping[str, str] | None = None,
        sized: bool = False,
    ) -> JobView:
        """The job as the provider's hooks see it; `sized` adds the outputs' byte counts (renders them)."""
        now = self.clock.now()
        outputs: tuple[str, ...] = ()
        if job.phase is Phase.SUCCEEDED and job.finished_at is not None:
            expires = int(job.finished_at + rt.url_lifetime)
            outputs = tuple(
                origin + self.signer.path(OutputRef(rt.spec.id, job.id, i, expires))
                for i in range(job.plan.output.count)
            )
        return JobView(
            id=job.id,
            variant=job.variant,
            phase=job.phase,
            status=rt.spec.lifecycle.word(job.phase),
            progress=job.progress(now),
            created_at=to_datetime(job.created_at),
            started_at=to_datetime(job.started_at) if job.started_at is not None else None,
            finished_at=to_datetime(job.finished_at) if job.finished_at is not None else None,
            request=job.request,
            outputs=outputs,
            cost=job.cost,
            plan=job.plan,
            error_code=job.error[0] if job.error else None,
            error_message=job.error[1] if job.error else None,
            settings=rt.settings,
            planned_seconds=job.finish_at - job.created_at,
            origin=origin,
            operation=str(job.noted("operation", "")),
            base_url=origin + mount,
            query=query if query is not None else {},
            output_bytes=self._output_bytes(job) if sized and outputs else (),
        )

    def _output_bytes(self, job: Job) -> tuple[int, ...]:
        size = len(self.media_file(job).data)
        return (size,) * job.plan.output.count

    def account_view(
        self, provider: str, account: str, jobs_origin: str | None = None, balance_only: bool = False
    ) -> AccountView:
        """The balance and ledger; with `jobs_origin`, also the jobs (output URLs on that origin); with
        `balance_only`, the entries are only the top-ups and adjustments."""
        rt = self.runtimes[provider]
        jobs: list[Job] = []
        if jobs_origin is not None:
            mine = (j for j in self.engine.jobs() if j.provider == provider and j.account == account)
            jobs = sorted(mine, key=lambda j: j.created_at)
        ledger = self.ledger
        entries = (
            ledger.balance_sets(provider, account) if balance_only else ledger.entries(provider, account)
        )
        return AccountView(
            provider=provider,
            key=account,
            balance=self.ledger.balance(provider, account),
            spent=self.ledger.spent(provider, account),
            entries=tuple(e.as_json() for e in entries),
            settings=rt.settings,
            jobs=tuple(self.view(rt, j, jobs_origin or "") for j in jobs),
        )

    def error(
        self,
        rt: Runtime,
        code: str,
        message: str | None = None,
        param: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Response:
        """An error in the provider's own envelope and status."""
        err = rt.spec.error(code)
        text = (
            err.message
            if not message
            else (message if message.startswith(err.message) else f"{err.message}: {message}")
        )
        template = err.envelope if err.envelope is not None else rt.spec.envelope.template
        answer_id = self.answer_ids.make(UUID4, 0) if rt.spec.envelope.answer_ids else ""
        body = fill_envelope(template, err, text, param, rt.spec.envelope.optional, answer_id)
        if err.retry_after is not None and not any(h[0] == "retry-after" for h in headers):
            headers = (*headers, ("retry-after", str(err.retry_after)))
        if err.headers:
            headers = (*headers, *err.header_values())
        return Response(err.status, body, headers)

    # ----------------------------------------------------------------- engine events
    def _settle(self, job: Job, phase: Phase) -> None:
        if phase not in (Phase.SUCCEEDED, Phase.FAILED):
            return
        rt = self.runtimes[job.provider]
        at = job.history[-1][0]
        self.ledger.settle(job.provider, job.id, phase is Phase.SUCCEEDED, rt.refund_failed, at)

    def _forget(self, job: Job) -> None:
        self.ledger.forget_job(job.provider, job.account, job.id)

    # ----------------------------------------------------------------- output files
    def download(self, req: Request) -> Response:
        """An output file request, with download faults applied and recorded in the journal."""
        return controls.download(self, req)

    def _download(self, req: Request) -> Response:
        """Serve an output file: signature first (403 whatever the clock says), then expiry, then bytes."""
        found = _FILE_PATH.match(req.path)
        rt = self.runtimes.get(found.group("provider")) if found else None
        if found is None or rt is None:
            return Response(404, {"code": "not_found", "message": "No such file"})
        expires, signature = edge.parse_expires(req.query.get("expires", "")), req.query.get("signature", "")
        if expires is None or not signature:
            return Response(403, {"code": "signature_invalid", "message": "The URL is not signed"})
        ref = OutputRef(rt.spec.id, found.group("job"), int(found.group("index")), expires)
        if not self.signer.verify(ref, signature):
            return Response(403, {"code": "signature_invalid", "message": "The URL signature does not match"})
        if self.clock.now() > ref.expires:
            policy = rt.spec.urls
            return Response(policy.expired_status, dict(policy.expired_body or {"code": "output_expired"}))
        job = self.engine.get(rt.spec.id, ref.job_id)
        if job is None or ref.index >= job.plan.output.count:
            return Response(404, {"code": "not_found", "message": "No such file"})
        if req.method not in ("GET", "HEAD"):
            return Response(
                405, {"code": "method_not_allowed", "message": "Use GET or HEAD"}, (("allow", "GET, HEAD"),)
            )
        return self._serve_media(job, req)

    def output_path(self, path: str) -> tuple[str, str, int] | None:
        """(provider, job id, file index) when `path` is an output file's path."""
        found = _FILE_PATH.match(path)
        if found is None or found.group("provider") not in self.runtimes:
            return None
        return found.group("provider"), found.group("job"), int(found.group("index"))

    @property
    def media(self) -> MediaCache:
        """Rendered outputs and media verdicts, made on first use: the MP4 writer is not loaded at start-up
        (it adds ~7 % to the time `klingsim serve` takes to answer)."""
        cache = self._media
        if cache is None:
            from klingsim.core.media import MediaCache

            with self._media_lock:  # worker threads may ask at the same time as the event loop
                if self._media is None:
                    self._media = MediaCache()
                cache = self._media
        return cache

    def media_file(self, job: Job) -> MediaFile:
        """The job's video, rendered on first use and cached by its parameters."""
        from klingsim.core import media

        out = job.plan.output
        width, height = media.frame_size(out.aspect_ratio, out.lines)
        return self.media.get(media.MediaSpec(width, height, float(out.seconds), out.audio))

    def _serve_media(self, job: Job, req: Request) -> Response:
        from klingsim.core import media

        file = self.media_file(job)
        answer = media.serve_media(
            req.method,
            file,
            req.headers.get("range"),
            req.headers.get("if-none-match"),
            req.headers.get("if-range"),
        )
        return Response(answer.status, answer.body, answer.headers, content_type="")

    # ----------------------------------------------------------------- control
    def advance(self, seconds: float) -> float:
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("only a virtual clock can be advanced")
        with self.store.transaction():
            now = self.clock.advance(seconds)
            self.store.save_clock(now)
            self.engine.tick()
        self.callbacks.run_due(now, _wall)  # outside the transaction: deliveries wait on receivers
        return now

    def tick(self) -> int:
        """Apply what is due by now and run due callback attempts (the server's background worker)."""
        with self.store.transaction():
            self.engine.tick()
        return self.callbacks.run_due(self.clock.now(), _wall)

    def set_balance(
        self,
        provider: str,
        key: str,
        amount: Decimal,
        account: str | None = None,
        secret: str | None = None,
    ) -> None:
        """Set a key's balance, creating the key (in `account`, default its own) if needed; `secret`
        registers the secret the key signs with (its signatures are verified from then on)."""
        with self.store.transaction():
            current = self.keys.account_of(provider, key)
            if current is None or (account is not None and account != current):
                current = self.keys.add(provider, key, account)
            if secret is not None:
                self.keys.set_secret(provider, key, secret)
            self.ledger.set_balance(provider, current, amount, self.clock.now())

    def reset(self) -> None:
        with self.store.transaction():
            self.engine.reset()
            self.ledger.reset()
            self.keys.reset()
            self.faults.clear()
            self.journal.clear()
            self.rate_limiter.reset()
            self.callbacks.reset()
            self.store.reset()

    def settings(self) -> Mapping[str, Mapping[str, Any]]:
        return {pid: rt.settings for pid, rt in self.runtimes.items()}
