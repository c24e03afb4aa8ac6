"""The control plane under /_klingsim/: clock, reset, accounts. Its own OpenAPI is /_klingsim/openapi.json."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from klingsim.core.clock import iso
from klingsim.core.simulator import Simulator


class Advance(BaseModel):
    seconds: float = Field(ge=0, description="how far to move the virtual clock")


class BalanceBody(BaseModel):
    balance: Decimal = Field(ge=0, description="the new balance, in the provider's unit")


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": "not_found", "message": what}, status_code=404)


def control_app(sim: Simulator) -> FastAPI:
    app = FastAPI(
        title="klingsim control plane",
        openapi_url="/_klingsim/openapi.json",
        docs_url="/_klingsim/docs",
        redoc_url=None,
    )

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
        sim.advance(body.seconds)
        return {"now": iso(sim.clock.now()), "mode": sim.clock.mode, "speed": sim.clock.speed}

    @router.post("/reset")
    def reset() -> dict[str, str]:
        sim.reset()
        return {"status": "reset"}

    @router.put("/accounts/{provider}/{api_key}", response_model=None)
    def put_account(provider: str, api_key: str, body: BalanceBody) -> dict[str, Any] | JSONResponse:
        if provider not in sim.runtimes:
            return _not_found(f"unknown provider {provider}")
        sim.set_balance(provider, api_key, body.balance)
        return _account(provider, api_key)

    @router.get("/accounts/{provider}/{api_key}", response_model=None)
    def get_account(provider: str, api_key: str) -> dict[str, Any] | JSONResponse:
        if provider not in sim.runtimes or sim.keys.account_of(provider, api_key) is None:
            return _not_found(f"no account for {provider}/{api_key}")
        return _account(provider, api_key)

    def _account(provider: str, api_key: str) -> dict[str, Any]:
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

    app.include_router(router)
    return app
