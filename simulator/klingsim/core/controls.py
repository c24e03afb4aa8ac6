"""What the control plane adds around the provider engine: faults, the journal, rate limits, callbacks,
forced outcomes, job timelines and restoring persisted state. Functions over a Simulator, kept out of
simulator.py so the request engine stays readable.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from klingsim.core import hints
from klingsim.core.clock import MAX_TIME, VirtualClock, iso
from klingsim.core.faults import Hit
from klingsim.core.http import Request, Response
from klingsim.core.jobs import Job
from klingsim.core.ratelimit import Limit
from klingsim.spec import TERMINAL_PHASES, Action, Endpoint, ErrorRole, Phase, ProviderSpec

if TYPE_CHECKING:
    from klingsim.core.simulator import Runtime, Simulator

FAULT_HEADER = "x-klingsim-fault"
FAILURE_CODE = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_FILE_PROVIDER = re.compile(r"^/_klingsim/files/(?P<provider>[\w-]+)/")


_KINDS = {Action.CREATE: "create", Action.STATUS: "status"}


def endpoint_kind(endpoint: Endpoint | None) -> str:
    if endpoint is None:
        return "other"
    return _KINDS.get(endpoint.action) or str(endpoint.action)


# ----------------------------------------------------------------- requests: faults, latency, journal
def handle(sim: Simulator, provider_id: str, req: Request) -> Response:
    """A provider request with faults applied and recorded in the journal; inside one store transaction."""
    rt = sim.runtimes[provider_id]
    with sim.store.transaction():
        match = rt.router.match(req.method, req.path)
        if match is None:
            hints.check_route(rt, req.method, req.path)
        hit = sim.faults.take(provider_id, endpoint_kind(match.endpoint if match else None))
        response = _fault_answer(sim, rt, req, hit)
        if response is None:
            response = sim._dispatch(rt, req, match)
        return _recorded(sim, provider_id, req, response, hit)


def download(sim: Simulator, req: Request) -> Response:
    found = _FILE_PROVIDER.match(req.path)
    provider = found.group("provider") if found and found.group("provider") in sim.runtimes else None
    hit = sim.faults.take(provider, "download") if provider else None
    response = _fault_answer(sim, sim.runtimes[provider], req, hit) if provider else None
    if response is None:
        response = sim._download(req)
    return _recorded(sim, provider, req, response, hit)


def _fault_answer(sim: Simulator, rt: Runtime, req: Request, hit: Hit | None) -> Response | None:
    wanted = req.headers.get(FAULT_HEADER, "").strip()
    if wanted:
        codes = {e.code for e in rt.spec.errors}
        if wanted not in codes:
            known = ", ".join(sorted(codes))
            return sim.error(
                rt,
                rt.spec.roles[ErrorRole.VALIDATION],
                f"X-Klingsim-Fault names no {rt.spec.id} error: {wanted!r}; known: {known}",
                "X-Klingsim-Fault",
            )
        return sim.error(rt, wanted, "Injected by the X-Klingsim-Fault header")
    if hit is not None and hit.error:
        return sim.error(rt, hit.error, hit.message or "Injected by a klingsim fault")
    return None


def _recorded(
    sim: Simulator, provider: str | None, req: Request, response: Response, hit: Hit | None
) -> Response:
    extra: dict[str, Any] = {}
    if hit is not None:
        extra["faults"] = list(hit.fault_ids)
        if hit.delay_seconds:
            extra["latency_ms"] = round(hit.delay_seconds * 1000, 3)
            response = Response(
                response.status, response.body, response.headers, response.content_type, hit.delay_seconds
            )
    if req.headers.get(FAULT_HEADER):
        extra["fault_header"] = req.headers[FAULT_HEADER]
    noted = hints.take()
    if noted is not None:
        extra["hints"] = noted
        headers = (*response.headers, (hints.HEADER, "; ".join(noted)))
        response = Response(response.status, response.body, headers, response.content_type, response.delay)
    sim.journal.record(provider, req, response, sim.clock.now(), extra)
    return response


# ----------------------------------------------------------------- rate limits
def limit_for(sim: Simulator, spec: ProviderSpec) -> Limit | None:
    if spec.id in sim.rate_limits:
        return sim.rate_limits[spec.id]
    if spec.rate_limit is not None:
        scope = "account" if spec.rate_limit.scope == "account" else "key"
        return Limit(spec.rate_limit.requests, spec.rate_limit.per_seconds, scope)
    return sim.default_rate_limit


def rate_limit_gate(
    sim: Simulator, rt: Runtime, endpoint: Endpoint, req: Request, account: str
) -> Response | None:
    """429 in the provider's envelope with Retry-After when the account's (or key's) window is full."""
    limit = limit_for(sim, rt.spec)
    if limit is None:
        return None
    holder = account if limit.scope == "account" else f"key:{_key_of(rt, req)}"
    wait = sim.rate_limiter.admit(rt.spec.id, holder, limit, sim.clock.now())
    if wait is None:
        return None
    return sim.error(
        rt,
        rt.spec.roles[ErrorRole.RATE_LIMITED],
        f"{limit.requests} requests per {limit.per_seconds:g} s; retry after {wait} s",
        headers=(("retry-after", str(wait)),),
    )


def _key_of(rt: Runtime, req: Request) -> str:
    header = req.headers.get("authorization", "")
    if header:
        return header.strip().partition(" ")[2].strip()
    return next((req.headers[h] for h in rt.spec.auth.also_headers if req.headers.get(h)), "")


# ----------------------------------------------------------------- callbacks and job faults
def prepare_job(sim: Simulator, rt: Runtime, job: Job, callback_url: str | None, origin: str) -> None:
    """Apply the create-time faults (fail after running, stuck) and remember where to call back."""
    if callback_url is not None:
        job.meta["callback_url"] = callback_url
        job.meta["origin"] = origin
    hit = sim.faults.take(rt.spec.id, "create", jobs=True)
    if hit is None:
        return
    job.meta["faults"] = list(hit.fault_ids)
    if hit.job_failure and job.planned_failure is None:
        job.planned_failure = (hit.job_failure, "Generation failed (requested by a klingsim fault)")
    if hit.stuck == "queued":
        job.stuck = True
    elif hit.stuck == "running":
        job.meta["stick_when_running"] = True


def after_transition(sim: Simulator, job: Job, phase: Phase) -> None:
    """Engine listener, after billing settled: persist the job, stick it, or queue its callback."""
    if phase is Phase.RUNNING and job.noted("stick_when_running") and job.meta.pop("stick_when_running"):
        job.stuck = True
    sim.store.save_job(job)
    url = job.noted("callback_url")
    rt = sim.runtimes.get(job.provider)
    if not url or rt is None or rt.spec.callbacks is None or phase not in rt.spec.callbacks.phases:
        return
    policy = rt.spec.callbacks
    view = sim.view(
        rt,
        job,
        str(job.noted("origin", "")),
        str(job.noted("mount", "")),
        sized=rt.spec.hooks.render_callback is not None,
    )
    payload = (rt.spec.hooks.render_callback or rt.spec.hooks.render_job)(view)
    at = job.history[-1][0]
    sim.callbacks.enqueue(
        job.provider, job.id, job.account, str(url), payload, at, policy.timeout_seconds, policy.retry_delays
    )


# ----------------------------------------------------------------- forced outcomes and timelines
class OutcomeError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def force_outcome(
    sim: Simulator, provider: str, job_id: str, status: str, error: str | None, message: str | None
) -> Job:
    """End a job now ("succeeded", "failed", or the provider's own words for them), or keep it where it
    is ("stuck") until another outcome is forced."""
    rt = sim.runtimes.get(provider)
    job = sim.engine.get(provider, job_id) if rt is not None else None
    if rt is None or job is None:
        raise OutcomeError(404, "not_found", f"no job {provider}/{job_id}")
    words = {word: phase for phase, word in rt.spec.lifecycle.words.items() if phase in TERMINAL_PHASES}
    words.update({"succeeded": Phase.SUCCEEDED, "failed": Phase.FAILED})
    phase = words.get(status)
    if status != "stuck" and phase is None:
        allowed = ", ".join(["stuck", *sorted(words)])
        raise OutcomeError(400, "invalid_status", f"status must be one of {allowed}")
    if job.terminal:
        raise OutcomeError(409, "job_finished", f"job {job_id} already ended ({job.phase})")
    if error is not None and FAILURE_CODE.fullmatch(error) is None:
        raise OutcomeError(400, "invalid_error", "error must be a failure code of letters, digits, _ . -")
    with sim.store.transaction():
        if status == "stuck":
            job.stuck = True
            sim.store.save_job(job)
            return job
        failure: tuple[str, str] | None = None
        if phase is Phase.FAILED:
            code = error or str(rt.settings.get("default_failure_code", rt.spec.roles[ErrorRole.INTERNAL]))
            failure = (code, message or "Generation failed (forced on the klingsim control plane)")
        sim.engine.finish(job, failure)
    return job


def timeline(sim: Simulator, provider: str, job_id: str, origin: str) -> dict[str, Any] | None:
    rt = sim.runtimes.get(provider)
    job = sim.engine.get(provider, job_id) if rt is not None else None
    if rt is None or job is None:
        return None
    words = rt.spec.lifecycle.words
    view = sim.view(rt, job, origin)
    pending: dict[str, Any] | None = None
    if not job.terminal:
        nxt = Phase.RUNNING if job.phase is Phase.QUEUED else Phase.SUCCEEDED
        at = job.run_at if nxt is Phase.RUNNING else job.finish_at
        pending = {"phase": str(nxt), "at": at, "time": iso(at), "stuck": job.stuck}
    return {
        "provider": provider,
        "id": job.id,
        "account": job.account,
        "phase": str(job.phase),
        "status": words[job.phase],
        "stuck": job.stuck,
        "transitions": [
            {"phase": str(p), "status": words[p], "at": at, "time": iso(at)} for at, p in job.history
        ],
        "next": pending,
        "planned_failure": list(job.planned_failure) if job.planned_failure else None,
        "error": {"code": job.error[0], "message": job.error[1]} if job.error else None,
        "cost": float(job.cost),
        "unit": rt.spec.prices.unit,
        "request": job.request,
        "ledger": [e.as_json() for e in sim.ledger.job_entries(provider, job.id)],
        "outputs": list(view.outputs),
        "callbacks": [d.as_json() for d in sim.callbacks.list(provider, job.id)],
        "task": rt.spec.hooks.render_job(view),
    }


# ----------------------------------------------------------------- persistence
def restore(sim: Simulator) -> int:
    """Load what the store kept; unfinished jobs are rescheduled. Returns how many jobs came back."""
    snap = sim.store.load(sim.engine.max_finished)
    for provider, key, account in snap.keys:
        sim.keys.add(provider, key, account)
    sim.ledger.restore(snap.entries)
    saved = snap.clock_now
    # A time past MAX_TIME could only come from an older klingsim's database; the clock stays put then.
    in_range = saved is not None and saved <= MAX_TIME
    if saved is not None and in_range and isinstance(sim.clock, VirtualClock) and saved > sim.clock.now():
        sim.clock.set(saved)
    restored = 0
    for job in sorted(snap.jobs, key=lambda j: j.created_at):
        rt = sim.runtimes.get(job.provider)
        if rt is None:
            continue
        # Replay the id generator so new ids continue the seeded sequence instead of repeating it.
        template = rt.spec.ids.templates.get(job.plan.id_family)
        if template is not None:
            sim.ids.make(template, job.created_at)
        sim.engine.restore(job)
        restored += 1
    sim.callbacks.restore(snap.deliveries)
    return restored
