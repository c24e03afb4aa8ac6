"""Mutant gateways: each a klingsim variant or a thin ASGI wrapper with one documented behaviour broken.

Every mutant names the rule that must catch it. Spec variants are served under the provider's own id, so the
kit still judges them against the real spec (klingsim.providers.ALL); wrappers rewrite klingsim's answers
the way a faulty proxy would, and pass the control plane through to the klingsim upstream.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.providers import by_id
from klingsim.server.app import KlingsimApp
from klingsim.spec import ForbiddenWhen, Param, Phase, ProviderSpec, RequiredWhen
from klingsim_contracts import shapes

Asgi = Callable[..., Any]
Rewrite = Callable[[str, str, int, dict[str, str], Any], tuple[int, dict[str, str], Any]]


@dataclass(frozen=True)
class Mutant:
    name: str
    provider: str
    rule: str  # the rule that must fail
    build: Callable[[], Asgi]
    # The rules a focused run sends beside `rule` (a passive rule judges what the others provoke); empty: the
    # whole catalogue runs.
    focus: tuple[str, ...] = ()


def simulator(*specs: ProviderSpec) -> Simulator:
    return Simulator(specs, VirtualClock(), seed=0, secret=b"mutant-secret")


def served(spec: ProviderSpec) -> Asgi:
    return KlingsimApp(simulator(spec))


# ----------------------------------------------------------------------------- spec variants
def _param(spec: ProviderSpec, name: str, **changes: Any) -> ProviderSpec:
    """A spec whose create param `name` (every variant) has `changes`."""
    body = spec.endpoints[0].body
    assert body is not None

    def fix(p: Param) -> Param:
        return replace(p, **changes) if p.name == name else p

    variants = tuple(replace(v, params=tuple(fix(p) for p in v.params)) for v in body.variants)
    endpoint = replace(spec.endpoints[0], body=replace(body, variants=variants))
    return replace(spec, endpoints=(endpoint, *spec.endpoints[1:]))


def _rules(spec: ProviderSpec, keep: Callable[[Any], bool]) -> ProviderSpec:
    body = spec.endpoints[0].body
    assert body is not None
    variants = tuple(replace(v, rules=tuple(r for r in v.rules if keep(r))) for v in body.variants)
    endpoint = replace(spec.endpoints[0], body=replace(body, variants=variants))
    return replace(spec, endpoints=(endpoint, *spec.endpoints[1:]))


def _k3() -> ProviderSpec:
    return by_id("kling3api")


def _normalize_lower(spec: ProviderSpec) -> ProviderSpec:
    original = spec.hooks.normalize

    def lower(body: dict[str, Any]) -> dict[str, Any]:
        if isinstance(body.get("type"), str):
            body = {**body, "type": body["type"].strip().lower()}
        return original(body) if original else body

    return replace(spec, hooks=replace(spec.hooks, normalize=lower))


def _price_bump(spec: ProviderSpec) -> ProviderSpec:
    rates = tuple(
        replace(r, per_second=Decimal(81)) if r.match == {"type": "pro-text-to-video", "sound": True} else r
        for r in spec.prices.rates
    )
    return replace(spec, prices=replace(spec.prices, rates=rates))


def _words_lower(spec: ProviderSpec) -> ProviderSpec:
    words = {p: w.lower() for p, w in spec.lifecycle.words.items()}
    return replace(spec, lifecycle=replace(spec.lifecycle, words=words))


def _double_charge() -> Asgi:
    sim = simulator(_k3())
    debit = sim.ledger.debit

    def twice(provider: str, account: str, job_id: str, amount: Decimal, at: float, hold: bool) -> Any:
        debit(provider, account, job_id + "-extra", amount, at, hold)
        return debit(provider, account, job_id, amount, at, hold)

    sim.ledger.debit = twice  # type: ignore[method-assign]
    return KlingsimApp(sim)


# ----------------------------------------------------------------------------- wrapping gateways
class Rewriting:
    """A gateway in front of klingsim that rewrites provider answers (the control plane passes through)."""

    def __init__(
        self, inner: Asgi, rewrite: Rewrite, request: Callable[[dict[str, Any]], None] | None = None
    ):
        self.inner = inner
        self.rewrite = rewrite
        self.request = request

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_klingsim"):
            await self.inner(scope, receive, send)
            return
        if self.request is not None:
            scope = dict(scope)
            self.request(scope)
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.inner(scope, receive, capture)
        raw = b"".join(chunks)
        headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        query = scope.get("query_string", b"").decode()
        if body is not None:
            status, headers, body = self.rewrite(
                scope["path"] + "?" + query, scope["method"], start["status"], headers, body
            )
            raw = json.dumps(body).encode()
        else:
            status = start["status"]
        headers["content-length"] = str(len(raw))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": raw})


def wrap(provider: str, rewrite: Rewrite, request: Callable[[dict[str, Any]], None] | None = None) -> Asgi:
    return Rewriting(served(by_id(provider)), rewrite, request)


def _fastapi_422(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    if status == 400:
        return 422, headers, {"detail": [{"loc": ["body"], "msg": "invalid", "type": "value_error"}]}
    return status, headers, body


def _rename_error_key(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    if status >= 400 and isinstance(body, dict) and "error" in body:
        body = {("error_code" if k == "error" else k): v for k, v in body.items()}
    return status, headers, body


def _to_500(from_status: int) -> Rewrite:
    def rewrite(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
        if status == from_status:
            headers = {k: v for k, v in headers.items() if k != "retry-after"}
            return (
                500,
                headers,
                {"code": 500, "message": "Server error", "error": "INTERNAL_ERROR", "data": None},
            )
        return status, headers, body

    return rewrite


def _strip_retry_after(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    return status, {k: v for k, v in headers.items() if k != "retry-after"}, body


def _recode(from_status: int, to: str) -> Rewrite:
    spec = _k3()
    error = spec.error(to)

    def rewrite(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
        if status == from_status:
            return (
                error.status,
                headers,
                {"code": error.status, "message": error.message, "error": to, "data": None},
            )
        return status, headers, body

    return rewrite


def _status_memory(change: Callable[[str], str | None]) -> Rewrite:
    """Rewrite a kling3api status answer once its job has been seen in a terminal word."""
    seen: set[str] = set()
    terminal = _k3().lifecycle.terminal_words

    def rewrite(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
        data = body.get("data") if isinstance(body, dict) else None
        if not path.startswith("/kling3api/api/status") or not isinstance(data, dict):
            return status, headers, body
        task, word = data.get("task_id"), data.get("status")
        if task in seen and word in terminal:
            new = change(word)
            if new is not None:
                body = {**body, "data": {**data, "status": new}}
        if word in terminal:
            seen.add(task)
        return status, headers, body

    return rewrite


def _progress_down(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    spec = by_id("evolink")
    where = shapes.discover(spec).progress
    running = spec.lifecycle.word(Phase.RUNNING)
    if (
        method == "GET"
        and isinstance(body, dict)
        and body.get("status") == running
        and where == ("progress",)
    ):
        body = {**body, "progress": max(0, 60 - int(body.get("progress", 0)))}
    return status, headers, body


def _fake_key(scope: dict[str, Any]) -> None:
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
    headers.append((b"authorization", b"Bearer k3a_gateway_service_key"))
    scope["headers"] = headers


def _no_forbidden_4k() -> ProviderSpec:
    return _rules(by_id("empiriolabs"), lambda r: not isinstance(r, ForbiddenWhen))


def _progress_scaled(provider: str, poll: str, factor: float) -> Rewrite:
    """A gateway that reports progress on another scale than the provider documents (x `factor`)."""

    def rewrite(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
        progress = body.get("progress") if isinstance(body, dict) else None
        if method == "GET" and path.startswith(f"/{provider}{poll}") and isinstance(progress, int | float):
            body = {**body, "progress": progress * factor}
        return status, headers, body

    return rewrite


def _created_as_text(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    """A gateway that reports EvoLink's `created` (Unix seconds) as an ISO-8601 string."""
    poll = method == "GET" and path.startswith("/evolink/v1/tasks/")
    if poll and isinstance(body, dict) and isinstance(body.get("created"), int):
        body = {**body, "created": "2026-01-01T00:00:00Z"}
    return status, headers, body


def _without_constraint(constraint: str) -> Callable[[ProviderSpec], ProviderSpec]:
    """A spec that no longer enforces one declared constraint (on every create and variant)."""

    def change(spec: ProviderSpec) -> ProviderSpec:
        endpoints = []
        for ep in spec.endpoints:
            if ep.body is None:
                endpoints.append(ep)
                continue
            variants = tuple(
                replace(v, constraints=tuple(c for c in v.constraints if c.id != constraint))
                for v in ep.body.variants
            )
            checks = tuple(c for c in ep.body.checks if c.id != constraint)
            endpoints.append(replace(ep, body=replace(ep.body, variants=variants, checks=checks)))
        return replace(spec, endpoints=tuple(endpoints))

    return change


def _before_normalize(spec: ProviderSpec, change: Callable[[dict[str, Any]], dict[str, Any]]) -> ProviderSpec:
    original = spec.hooks.normalize
    assert original is not None

    def normalize(body: dict[str, Any]) -> dict[str, Any]:
        return original(change(body))

    return replace(spec, hooks=replace(spec.hooks, normalize=normalize))


def _json_strings_kept(spec: ProviderSpec) -> ProviderSpec:
    """A gateway that passes a JSON-string storyboard on as a string (the provider reads it as the list)."""
    original = spec.hooks.normalize
    assert original is not None

    def normalize(body: dict[str, Any]) -> dict[str, Any]:
        shots = body.get("multi_prompt")
        out = original({k: v for k, v in body.items() if k != "multi_prompt"})
        return {**out, "multi_prompt": shots} if isinstance(shots, str) else original(body)

    return replace(spec, hooks=replace(spec.hooks, normalize=normalize))


def _params_ignored(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "params"}


def _k3_spec(change: Callable[[ProviderSpec], ProviderSpec]) -> Callable[[], Asgi]:
    return lambda: served(change(_k3()))


def _spec(provider: str, change: Callable[[ProviderSpec], ProviderSpec]) -> Callable[[], Asgi]:
    return lambda: served(change(by_id(provider)))


K = "KLING3API"
MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "accepts duration 16",
        "kling3api",
        f"{K}-DURATION-RANGE",
        _k3_spec(lambda s: _param(s, "duration", maximum=16)),
    ),
    Mutant(
        "refuses duration 3",
        "kling3api",
        f"{K}-DURATION-RANGE",
        _k3_spec(lambda s: _param(s, "duration", minimum=4)),
    ),
    Mutant(
        "prompt max off by one",
        "kling3api",
        f"{K}-PROMPT-LENGTH",
        _k3_spec(lambda s: _param(s, "prompt", max_length=2001)),
    ),
    Mutant("type enum case-insensitive", "kling3api", f"{K}-TYPE-ENUM", _k3_spec(_normalize_lower)),
    Mutant(
        "accepts aspect ratio 4:3",
        "kling3api",
        f"{K}-ASPECT-RATIO-ENUM",
        _k3_spec(lambda s: _param(s, "aspect_ratio", enum=("16:9", "9:16", "1:1", "4:3"))),
    ),
    Mutant(
        "eight reference images",
        "kling3api",
        f"{K}-IMAGES-ITEMS",
        _k3_spec(lambda s: _param(s, "images", max_items=8)),
    ),
    Mutant(
        'duration "5" coerced',
        "kling3api",
        f"{K}-DURATION-TYPE",
        _k3_spec(lambda s: _param(s, "duration", numeric_strings=True)),
    ),
    Mutant(
        "image-to-video without image",
        "kling3api",
        f"{K}-IMAGE-REQUIRE-WHEN-TYPE",
        _k3_spec(lambda s: _rules(s, lambda r: not (isinstance(r, RequiredWhen) and r.any_of == ("image",)))),
    ),
    Mutant(
        "FastAPI 422 instead of 400",
        "kling3api",
        f"{K}-ERROR-ENVELOPE",
        lambda: wrap("kling3api", _fastapi_422),
    ),
    Mutant(
        "error envelope key renamed",
        "kling3api",
        f"{K}-ERROR-ENVELOPE",
        lambda: wrap("kling3api", _rename_error_key),
    ),
    Mutant(
        "no refund on failure",
        "kling3api",
        f"{K}-REFUND-ON-FAILURE",
        _k3_spec(lambda s: s.with_settings({"refund_failed_jobs": False})),
    ),
    Mutant("every job charged twice", "kling3api", f"{K}-LEDGER", _double_charge),
    Mutant(
        "URL never expires",
        "kling3api",
        f"{K}-URL-EXPIRY",
        _k3_spec(lambda s: replace(s, urls=replace(s.urls, lifetime_seconds=10**9))),
    ),
    Mutant(
        "URL expires after an hour",
        "kling3api",
        f"{K}-URL-EXPIRY",
        _k3_spec(lambda s: replace(s, urls=replace(s.urls, lifetime_seconds=3600))),
    ),
    Mutant(
        "expired URL answers 403",
        "kling3api",
        f"{K}-URL-EXPIRY",
        _k3_spec(lambda s: replace(s, urls=replace(s.urls, expired_status=403))),
    ),
    Mutant(
        "status goes backwards",
        "kling3api",
        f"{K}-LIFECYCLE-ORDER",
        lambda: wrap("kling3api", _status_memory(lambda w: "IN_PROGRESS")),
    ),
    Mutant(
        "terminal state changes",
        "kling3api",
        f"{K}-TERMINAL-FINAL",
        lambda: wrap("kling3api", _status_memory(lambda w: "FAILED" if w == "SUCCESS" else None)),
    ),
    Mutant("wrong price multiplier", "kling3api", f"{K}-PRICE", _k3_spec(_price_bump)),
    Mutant(
        "upstream 429 turned into 500",
        "kling3api",
        f"{K}-ERROR-RATE-LIMITED",
        lambda: wrap("kling3api", _to_500(429)),
    ),
    Mutant(
        "missing Retry-After", "kling3api", f"{K}-RETRY-AFTER", lambda: wrap("kling3api", _strip_retry_after)
    ),
    Mutant("lowercase status words", "kling3api", f"{K}-STATUS-WORDS", _k3_spec(_words_lower)),
    Mutant(
        "changed id prefix",
        "kling3api",
        f"{K}-ID-FORMAT",
        _k3_spec(
            lambda s: replace(s, ids=replace(s.ids, templates={"kling3": "t75{hex:12}", "o3": "t71{hex:12}"}))
        ),
    ),
    Mutant(
        "gateway fills in its own key",
        "kling3api",
        f"{K}-AUTH-MISSING-KEY",
        lambda: wrap("kling3api", lambda *a: a[2:], _fake_key),
    ),
    Mutant(
        "402 answered as 400",
        "kling3api",
        f"{K}-ERROR-INSUFFICIENT-CREDITS",
        lambda: wrap("kling3api", _recode(402, "INVALID_REQUEST")),
    ),
    Mutant(
        "unknown task answered 400",
        "kling3api",
        f"{K}-ERROR-NOT-FOUND",
        lambda: wrap("kling3api", _recode(404, "INVALID_REQUEST")),
    ),
    Mutant(
        "bad JSON answered 500", "kling3api", f"{K}-NO-SERVER-ERRORS", lambda: wrap("kling3api", _to_500(400))
    ),
    Mutant(
        "progress goes down", "evolink", "EVOLINK-PROGRESS-MONOTONIC", lambda: wrap("evolink", _progress_down)
    ),
    Mutant(
        "http callback accepted",
        "evolink",
        "EVOLINK-CALLBACK-URL",
        _spec("evolink", lambda s: replace(s, callbacks=dataclasses.replace(s.callbacks, https_only=False))),
    ),  # type: ignore[arg-type]
    Mutant(
        "4k with a video accepted",
        "empiriolabs",
        "EMPIRIOLABS-KLING-O3-VIDEO-OR-REFERENCE-VIDEOS-FORBID-WHEN-MODEL-TIER",
        lambda: served(_no_forbidden_4k()),
    ),
    Mutant(
        "expired output without output_expired",
        "prospolabs",
        "PROSPOLABS-URL-EXPIRY",
        _spec("prospolabs", lambda s: replace(s, urls=replace(s.urls, expired_body={"code": "gone"}))),
    ),
    Mutant(
        "EvoLink progress as a 0-1 fraction",
        "evolink",
        "EVOLINK-PROGRESS-SCALE",
        lambda: wrap("evolink", _progress_scaled("evolink", "/v1/tasks/", 0.01)),
    ),
    Mutant(
        "EmpirioLabs progress as a percentage",
        "empiriolabs",
        "EMPIRIOLABS-PROGRESS-SCALE",
        lambda: wrap("empiriolabs", _progress_scaled("empiriolabs", "/v1/jobs/", 100)),
    ),
    Mutant(
        "EvoLink created time as text",
        "evolink",
        "EVOLINK-RESPONSE-SHAPE",
        lambda: wrap("evolink", _created_as_text),
    ),
    Mutant(
        "O3 and Kling 3.0 id prefixes swapped",
        "kling3api",
        f"{K}-ID-SHAPE",
        _k3_spec(
            lambda s: replace(s, ids=replace(s.ids, templates={"kling3": "n71{hex:12}", "o3": "n75{hex:12}"}))
        ),
    ),
    Mutant(
        "EvoLink ids with a 12-character tail",
        "evolink",
        "EVOLINK-ID-SHAPE",
        _spec(
            "evolink",
            lambda s: replace(s, ids=replace(s.ids, templates={"default": "task-unified-{unix}-{alnum:12}"})),
        ),
    ),
    Mutant(
        "seven scenes accepted",
        "empiriolabs",
        "EMPIRIOLABS-KLING-O3-SCENES-AT-MOST",
        _spec("empiriolabs", lambda s: s.with_settings({"max_scenes": 7})),
    ),
    Mutant(
        "scenes of 16 s accepted",
        "empiriolabs",
        "EMPIRIOLABS-KLING-O3-SCENES-TOTAL",
        _spec("empiriolabs", lambda s: s.with_settings({"max_total_seconds": 16})),
    ),
    Mutant(
        "image_end without image accepted",
        "empiriolabs",
        "EMPIRIOLABS-KLING-O3-IMAGE-END-NEEDS-IMAGE",
        _spec("empiriolabs", _without_constraint("empiriolabs.image-end-needs-image")),
    ),
    Mutant(
        "eight reference images",
        "empiriolabs",
        "EMPIRIOLABS-KLING-O3-REFERENCE-IMAGES-COUNT",
        _spec("empiriolabs", lambda s: s.with_settings({"max_reference_images": 8})),
    ),
    Mutant(
        "shots need not add up to duration",
        "evolink",
        "EVOLINK-KLING-O3-TEXT-TO-VIDEO-SHOTS-SUM",
        _spec("evolink", _without_constraint("evolink.shots-sum")),
    ),
    Mutant(
        "multi-shot without shot_type accepted",
        "evolink",
        "EVOLINK-KLING-O3-TEXT-TO-VIDEO-SHOT-TYPE-WITH-MULTI-SHOT",
        _spec("evolink", _without_constraint("evolink.shot-type-with-multi-shot")),
    ),
    Mutant(
        "images + elements over 4 beside a video",
        "evolink",
        "EVOLINK-KLING-O3-REFERENCE-TO-VIDEO-IMAGES-ELEMENTS",
        _spec("evolink", _without_constraint("evolink.images-elements")),
    ),
    Mutant(
        "image_end without image_start accepted",
        "evolink",
        "EVOLINK-KLING-O3-IMAGE-TO-VIDEO-IMAGE-END-NEEDS-START",
        _spec("evolink", _without_constraint("evolink.image-end-needs-start")),
    ),
    Mutant(
        "unknown <<<element_N>>> accepted",
        "evolink",
        "EVOLINK-KLING-O3-TEXT-TO-VIDEO-PROMPT-REFERENCES",
        _spec("evolink", lambda s: s.with_settings({"reject_unknown_references": False})),
    ),
    Mutant(
        "storyboards of any length",
        "prospolabs",
        "PROSPOLABS-SHOTS-TOTAL",
        _spec("prospolabs", _without_constraint("prospolabs.shots-total")),
    ),
    Mutant(
        "JSON-string storyboard refused",
        "prospolabs",
        "PROSPOLABS-MULTI-PROMPT-JSON",
        _spec("prospolabs", _json_strings_kept),
    ),
    Mutant(
        "params object ignored",
        "prospolabs",
        "PROSPOLABS-PARAMS-OBJECT",
        _spec("prospolabs", lambda s: _before_normalize(s, _params_ignored)),
    ),
)


# ----------------------------------------------------------------------------- the official Kling API
def _kling_data(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Rewrite:
    """Rewrite the task object (`data`) of every successful Kling answer."""

    def rewrite(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
        data = body.get("data") if isinstance(body, dict) else None
        if status < 300 and isinstance(data, dict) and "task_id" in data:
            body = {**body, "data": change(dict(data))}
        return status, headers, body

    return rewrite


def _code_as_text(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    if status >= 400 and isinstance(body, dict) and isinstance(body.get("code"), int):
        body = {**body, "code": str(body["code"])}
    return status, headers, body


def _word_renamed(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "task_status": "succeeded"} if data.get("task_status") == "succeed" else data


def _times_in_seconds(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v // 1000 if k in ("created_at", "updated_at") and isinstance(v, int) else v
        for k, v in data.items()
    }


def _duration_as_number(data: dict[str, Any]) -> dict[str, Any]:
    result = data.get("task_result")
    if isinstance(result, dict):
        videos = [{**v, "duration": float(v["duration"])} for v in result.get("videos", [])]
        data = {**data, "task_result": {**result, "videos": videos}}
    return data


def _pack_depleted_as_402(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    if isinstance(body, dict) and body.get("code") == 1102:
        return 402, headers, body
    return status, headers, body


def _external_id_dropped(spec: ProviderSpec) -> ProviderSpec:
    """A gateway that does not pass `external_task_id` on (the task can't be found by it)."""

    def drop(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != "external_task_id"}

    return replace(spec, hooks=replace(spec.hooks, normalize=drop))


# ----------------------------------------------------------------------------- fal.ai's queue
def _nest_validation(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    """A NestJS-style gateway: its own 400 body instead of fal's 422 detail list."""
    if status == 422:
        return 400, headers, {"statusCode": 400, "message": "Bad Request", "error": "Bad Request"}
    return status, headers, body


def _queued_as_200(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    if method == "GET" and path.split("?", maxsplit=1)[0].endswith("/status") and status == 202:
        return 200, headers, body
    return status, headers, body


def _urls_with_model(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    """A gateway that builds the job URLs from the submit path, keeping the model's subpath."""
    model = path.split("?", maxsplit=1)[0].removeprefix("/fal/")
    if method == "POST" and isinstance(body, dict) and "status_url" in body:
        app = "/fal-ai/kling-video/requests/"
        body = {
            k: v.replace(app, f"/{model}/requests/") if k.endswith("_url") else v for k, v in body.items()
        }
    return status, headers, body


def _file_size_off(path: str, method: str, status: int, headers: dict[str, str], body: Any) -> Any:
    video = body.get("video") if isinstance(body, dict) else None
    if isinstance(video, dict) and isinstance(video.get("file_size"), int):
        body = {**body, "video": {**video, "file_size": video["file_size"] + 1}}
    return status, headers, body


def _bills_cancelled() -> Asgi:
    """Every hold is captured, also when the request was cancelled (or failed)."""
    sim = simulator(by_id("fal"))
    settle = sim.ledger.settle

    def captured(provider: str, job_id: str, succeeded: bool, refund: bool, at: float) -> Any:
        return settle(provider, job_id, True, refund, at)

    sim.ledger.settle = captured  # type: ignore[method-assign,assignment]
    return KlingsimApp(sim)


UPSTREAM_MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "Kling code as a string",
        "kling",
        "KLING-ERROR-ENVELOPE",
        lambda: wrap("kling", _code_as_text),
        ("KLING-ERROR-1203",),
    ),
    Mutant(
        "Kling status word renamed",
        "kling",
        "KLING-STATUS-WORDS",
        lambda: wrap("kling", _kling_data(_word_renamed)),
        ("KLING-URL-EXPIRY",),
    ),
    Mutant(
        "Kling times in seconds",
        "kling",
        "KLING-RESPONSE-SHAPE",
        lambda: wrap("kling", _kling_data(_times_in_seconds)),
    ),
    Mutant(
        "Kling video duration as a number",
        "kling",
        "KLING-RESPONSE-SHAPE",
        lambda: wrap("kling", _kling_data(_duration_as_number)),
    ),
    Mutant(
        "Kling external_task_id ignored",
        "kling",
        "KLING-QUERY-BY-EXTERNAL-TASK-ID",
        _spec("kling", _external_id_dropped),
    ),
    Mutant(
        "Kling 1102 answered 402",
        "kling",
        "KLING-ERROR-1102",
        lambda: wrap("kling", _pack_depleted_as_402),
    ),
    Mutant(
        "fal framework validation body",
        "fal",
        "FAL-ERROR-ENVELOPE",
        lambda: wrap("fal", _nest_validation),
        ("FAL-ERROR-VALIDATION-ERROR",),
    ),
    Mutant("fal status 200 while IN_QUEUE", "fal", "FAL-PENDING-STATUS", lambda: wrap("fal", _queued_as_200)),
    Mutant("fal URLs keep the model subpath", "fal", "FAL-JOB-URLS", lambda: wrap("fal", _urls_with_model)),
    Mutant("fal bills a cancelled request", "fal", "FAL-CANCEL", _bills_cancelled),
    Mutant("fal file_size off by one", "fal", "FAL-RESULT", lambda: wrap("fal", _file_size_off)),
)
