"""The control plane under /_klingsim/: clock, reset, accounts, job timelines and outcomes, faults, the
request journal and callback deliveries. Its own OpenAPI is /_klingsim/openapi.json."""

from __future__ import annotations

import heapq
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator

from klingsim.core import controls, edge, restart
from klingsim.core.clock import iso
from klingsim.core.faults import fault_from_json
from klingsim.core.jobs import Job
from klingsim.core.simulator import Simulator
from klingsim.server.docs import ASSETS_DIR, ASSETS_PREFIX, docs_page
from klingsim.server.guard import EdgeGuard

UI_DIR = Path(__file__).with_name("ui")


class Advance(BaseModel):
    seconds: float = Field(ge=0, description="how far to move the virtual clock")


class ResetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keep_clock: bool = Field(
        False, description="keep the virtual clock's time instead of going back to the start"
    )


class BalanceBody(BaseModel):
    balance: Decimal = Field(ge=0, description="the new balance, in the provider's unit")
    account: str | None = Field(
        None, description="the account the key belongs to (keys of one account share balance and rate limit)"
    )
    secret_key: str | None = Field(
        None,
        min_length=1,
        description="the secret the key signs its tokens with (official Kling: the AccessKey's SecretKey); "
        "once registered, signatures are verified",
    )

    @field_validator("balance")
    @classmethod
    def _in_range(cls, value: Decimal) -> Decimal:
        problem = edge.balance_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(
        description="succeeded, failed, the provider's own word for either, or stuck (stays as it is)"
    )
    error: str | None = Field(None, description="the provider failure code a failed job reports")
    message: str | None = Field(None, description="the failure message")


class FaultBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str
    endpoint: Literal["create", "status", "download", "*"] = "*"
    error: str | None = Field(None, description="a documented error code of that provider, e.g. RATE_LIMITED")
    count: int | None = Field(None, ge=1, description="fail the next N matching requests, then vanish")
    rate: float | None = Field(None, ge=0, le=1, description="fail this seeded fraction of matching requests")
    latency_ms: float | list[float] | None = Field(None, description="added latency: n or [min, max]")
    job_failure: str | None = Field(None, description="accepted jobs fail after running with this code")
    stuck: Literal["queued", "running"] | None = Field(None, description="accepted jobs stay in this state")
    message: str | None = None


def _bad(code: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": "not_found", "message": what}, status_code=404)


def control_app(sim: Simulator) -> FastAPI:
    app = FastAPI(
        title="klingsim control plane",
        openapi_url="/_klingsim/openapi.json",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; ours is served from the package
        redoc_url=None,
    )
    restart.remember_once(sim)

    app.add_middleware(EdgeGuard)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "invalid_request", "message": str(exc.errors())}, status_code=400)

    router = APIRouter(prefix="/_klingsim")

    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/clock")
    def clock() -> dict[str, Any]:
        return {"now": iso(sim.clock.now()), "mode": sim.clock.mode, "speed": sim.clock.speed}

    @router.post("/clock/advance", response_model=None)
    def advance(body: Advance) -> dict[str, Any] | JSONResponse:
        if sim.clock.mode != "virtual":
            return JSONResponse({"error": "clock_not_virtual", "message": "start with --clock virtual"}, 409)
        problem = edge.advance_problem(sim.clock.now(), body.seconds)
        if problem is not None:
            return _bad("invalid_request", problem)
        sim.advance(body.seconds)
        return {"now": iso(sim.clock.now()), "mode": sim.clock.mode, "speed": sim.clock.speed}

    @router.post("/reset")
    def reset(body: ResetBody | None = None) -> dict[str, Any]:
        """Start over: the state the server started with (ids, virtual clock, accounts, faults)."""
        restart.restart(sim, keep_clock=body.keep_clock if body else False)
        return {"status": "reset", "now": iso(sim.clock.now())}

    @router.put("/accounts/{provider}/{api_key}", response_model=None)
    def put_account(provider: str, api_key: str, body: BalanceBody) -> dict[str, Any] | JSONResponse:
        if provider not in sim.runtimes:
            return _not_found(f"unknown provider {provider}")
        if body.secret_key is not None and sim.runtimes[provider].spec.auth.signed is None:
            return _bad("no_secrets", f"{provider} keys do not sign their requests; secret_key is for kling")
        sim.set_balance(provider, api_key, body.balance, body.account, body.secret_key)
        return _account(sim, provider, api_key)

    @router.get("/accounts/{provider}/{api_key}", response_model=None)
    def get_account(provider: str, api_key: str) -> dict[str, Any] | JSONResponse:
        if provider not in sim.runtimes or sim.keys.account_of(provider, api_key) is None:
            return _not_found(f"no account for {provider}/{api_key}")
        return _account(sim, provider, api_key)

    @router.get("/jobs/{provider}/{job_id}", response_model=None)
    def job_timeline(provider: str, job_id: str, request: Request) -> dict[str, Any] | JSONResponse:
        """The job's transitions with clock times, ledger entries, outputs and callback attempts."""
        found = controls.timeline(sim, provider, job_id, str(request.base_url).rstrip("/"))
        return found if found is not None else _not_found(f"no job {provider}/{job_id}")

    @router.post("/jobs/{provider}/{job_id}/outcome", response_model=None)
    def job_outcome(
        provider: str, job_id: str, body: OutcomeBody, request: Request
    ) -> dict[str, Any] | JSONResponse:
        """Force the job's end now (settling its billing and firing its callback), or keep it stuck."""
        try:
            controls.force_outcome(sim, provider, job_id, body.status, body.error, body.message)
        except controls.OutcomeError as exc:
            return _bad(exc.code, exc.message, exc.status)
        if sim.clock.mode == "virtual":
            sim.tick()  # deliver its callback now, as an advance would; a real clock's worker does it
        found = controls.timeline(sim, provider, job_id, str(request.base_url).rstrip("/"))
        return found if found is not None else _not_found(f"no job {provider}/{job_id}")

    @router.post("/faults", response_model=None)
    def add_fault(body: FaultBody) -> dict[str, Any] | JSONResponse:
        rt = sim.runtimes.get(body.provider)
        if rt is None:
            return _not_found(f"unknown provider {body.provider}")
        codes = {e.code for e in rt.spec.errors}
        if body.error is not None and body.error not in codes:
            return _bad(
                "invalid_fault", f"{body.provider} has no error {body.error!r}; known: {sorted(codes)}"
            )
        try:
            fault_id = sim.faults.add(fault_from_json(body.model_dump(exclude_none=True)))
        except ValueError as exc:
            return _bad("invalid_fault", str(exc))
        return {"id": fault_id}

    @router.get("/faults")
    def list_faults() -> dict[str, Any]:
        return {"faults": sim.faults.list()}

    @router.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        count = len(sim.faults.list())
        sim.faults.clear()
        return {"cleared": count}

    @router.delete("/faults/{fault_id}", response_model=None)
    def remove_fault(fault_id: str) -> dict[str, Any] | JSONResponse:
        if not sim.faults.remove(fault_id):
            return _not_found(f"no fault {fault_id}")
        return {"removed": fault_id}

    _listings(router, sim)
    app.include_router(router)
    _pages(app)
    return app


def _summary(sim: Simulator, job: Job) -> dict[str, Any]:
    spec = sim.runtimes[job.provider].spec
    return {
        "provider": job.provider,
        "id": job.id,
        "account": job.account,
        # What the client asked for (model or task type) when the provider has one variant ("default").
        "variant": next(
            (v for k in ("model", "type") if isinstance(v := job.request.get(k), str)), job.variant
        ),
        "phase": str(job.phase),
        "status": spec.lifecycle.word(job.phase),
        "stuck": job.stuck,
        "created": iso(job.created_at),
        "cost": float(job.cost),
        "unit": spec.prices.unit,
    }


def _account(sim: Simulator, provider: str, api_key: str) -> dict[str, Any]:
    account = sim.keys.account_of(provider, api_key) or api_key
    view = sim.account_view(provider, account)
    return {
        "provider": provider,
        "api_key": api_key,
        "account": account,
        "balance": float(view.balance),
        "unit": sim.runtimes[provider].spec.prices.unit,
        "entries": list(view.entries),
    }


def _listings(router: APIRouter, sim: Simulator) -> None:
    """Read-only lists for the dashboard and scripts: journal, callbacks, jobs and accounts."""

    @router.get("/requests")
    def journal(provider: str | None = None, since: int = 0) -> dict[str, Any]:
        """The request journal (oldest first; `since` a sequence number, for incremental reads)."""
        return {"size": sim.journal.size, "requests": sim.journal.entries(provider, since)}

    @router.get("/callbacks")
    def callbacks(provider: str | None = None, job_id: str | None = None) -> dict[str, Any]:
        return {"deliveries": [d.as_json() for d in sim.callbacks.list(provider, job_id)]}

    @router.get("/jobs")
    def list_jobs(provider: str | None = None, limit: int = Query(200, ge=1, le=10_000)) -> dict[str, Any]:
        """The newest jobs (newest first), optionally of one provider: id, status and what they cost."""
        newest_first = reversed(list(sim.engine.jobs()))  # insertion order breaks ties of equal times
        chosen = (j for j in newest_first if provider is None or j.provider == provider)
        newest = heapq.nlargest(limit, chosen, key=lambda j: j.created_at)
        return {"jobs": [_summary(sim, job) for job in newest]}

    @router.get("/providers")
    def list_providers() -> dict[str, Any]:
        """Each provider's id, title, status words, documented error codes and price unit."""
        found = [
            {
                "id": pid,
                "title": rt.spec.title,
                "statuses": sorted(set(rt.spec.lifecycle.words.values())),
                "errors": sorted({e.code for e in rt.spec.errors}),
                "unit": rt.spec.prices.unit,
                "example_key": rt.spec.auth.example_key,
            }
            for pid, rt in sim.runtimes.items()
        ]
        return {"providers": found}

    @router.get("/accounts")
    def list_accounts(entries: int = Query(50, ge=0, le=10_000)) -> dict[str, Any]:
        """Every key the simulator knows, per provider, with its account, balance and its last `entries`
        ledger entries (`entry_count` says how many there are)."""
        found = [_account(sim, pid, key) for pid in sim.runtimes for key in sim.keys.keys(pid)]
        for account in found:
            account["entry_count"] = len(account["entries"])
            account["entries"] = account["entries"][-entries:] if entries else []
        return {"accounts": found}


def _pages(app: FastAPI) -> None:
    """The offline Swagger UI page and its assets, and the dashboard's static files."""

    @app.get("/_klingsim/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_page("klingsim control plane", "/_klingsim/openapi.json"))

    @app.get("/_klingsim/ui", include_in_schema=False)
    def ui_root() -> RedirectResponse:
        return RedirectResponse("/_klingsim/ui/")

    app.mount(ASSETS_PREFIX, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    app.mount("/_klingsim/ui", StaticFiles(directory=UI_DIR, html=True), name="ui")
