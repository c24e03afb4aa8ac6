"""Where a provider's answers put the job id, status word, progress, outputs and cost.

Found by rendering a job with sentinel values through the provider's own pure hooks (spec.hooks), so the
kit reads any provider's responses without a hand-written map, and a new provider is covered when it lands.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from klingsim.spec import ErrorSpec, JobView, Phase, ProviderSpec
from klingsim_contracts import strategies

Path = tuple[str | int, ...]

_ID = "ks-sentinel-id"
_URL = "https://sentinel.invalid/ks-output.mp4"
_COST = Decimal("4321.25")
_PROGRESS = 0.375


@dataclass(frozen=True)
class Shapes:
    created_id: Path | None
    created_status: Path | None
    job_id: Path | None
    job_status: Path | None
    progress: Path | None
    progress_scale: float
    progress_whole: bool  # whole numbers only (EvoLink's integer percent), not fractions
    outputs: Path | None
    created_cost: Path | None
    job_cost: Path | None


def _walk(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, (*path, i))


def _find(doc: Any, predicate: Any) -> Path | None:
    return next((p for p, v in _walk(doc) if p and predicate(v)), None)


def read(doc: Any, path: Path | None) -> Any:
    """The value at `path`, or None."""
    if path is None:
        return None
    cur = doc
    for key in path:
        if isinstance(key, int):
            if not isinstance(cur, list) or key >= len(cur):
                return None
        elif not isinstance(cur, Mapping) or key not in cur:
            return None
        cur = cur[key]
    return cur


def read_all(doc: Any, path: Path | None) -> list[Any]:
    """Every value at `path`, where list indexes in the path stand for all elements."""
    if path is None:
        return []
    found = [doc]
    for key in path:
        nxt: list[Any] = []
        for cur in found:
            if isinstance(key, int) and isinstance(cur, list):
                nxt.extend(cur)
            elif isinstance(key, str) and isinstance(cur, Mapping) and key in cur:
                nxt.append(cur[key])
        found = nxt
    return found


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _view(spec: ProviderSpec, phase: Phase, status: str) -> JobView:
    body = strategies.cheapest(spec, strategies.base_bodies(spec))
    full = strategies.defaulted(spec, body) or body
    variant = strategies.variant_of(spec, body)
    name = variant.name if variant is not None else "default"
    plan = spec.hooks.plan(name, full, spec.setting_values())
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return JobView(
        id=_ID,
        variant=name,
        phase=phase,
        status=status,
        progress=_PROGRESS if phase is Phase.RUNNING else (1.0 if phase is Phase.SUCCEEDED else 0.0),
        created_at=now,
        started_at=now,
        finished_at=now if phase in (Phase.SUCCEEDED, Phase.FAILED) else None,
        request=full,
        outputs=(_URL,) if phase is Phase.SUCCEEDED else (),
        cost=_COST,
        plan=plan,
        error_code=None,
        error_message=None,
        settings=spec.setting_values(),
    )


def _is_cost(v: Any) -> bool:
    n = _number(v)
    return n is not None and abs(n - float(_COST)) < 0.01


def discover(spec: ProviderSpec) -> Shapes:
    words = spec.lifecycle.words
    created = spec.hooks.render_created(_view(spec, Phase.QUEUED, words[Phase.QUEUED]))
    running = spec.hooks.render_job(_view(spec, Phase.RUNNING, words[Phase.RUNNING]))
    done = spec.hooks.render_job(_view(spec, Phase.SUCCEEDED, words[Phase.SUCCEEDED]))
    progress = _find(running, lambda v: _number(v) is not None and abs(_number(v) - _PROGRESS) < 1e-9)  # type: ignore[operator]
    scale = 1.0
    if progress is None:
        progress = _find(running, lambda v: _number(v) in (37.5, 37.0, 38.0))
        scale = 100.0
    return Shapes(
        created_id=_find(created, lambda v: v == _ID),
        created_status=_find(
            created,
            lambda v: isinstance(v, str) and (v == words[Phase.QUEUED] or v in spec.lifecycle.terminal_words),
        ),
        job_id=_find(running, lambda v: v == _ID),
        job_status=_find(running, lambda v: v == words[Phase.RUNNING]),
        progress=progress,
        progress_scale=scale,
        progress_whole=isinstance(read(running, progress), int),
        outputs=_find(done, lambda v: v == _URL),
        created_cost=_find(created, _is_cost),
        job_cost=_find(done, _is_cost),
    )


# ----------------------------------------------------------------------------- error envelopes
def _template(spec: ProviderSpec, error: ErrorSpec) -> Mapping[str, Any]:
    return error.envelope if error.envelope is not None else spec.envelope.template


def code_paths(spec: ProviderSpec) -> list[Path]:
    """Where the error code sits in each envelope the provider uses."""
    templates = [spec.envelope.template] + [e.envelope for e in spec.errors if e.envelope is not None]
    paths: list[Path] = []
    for template in templates:
        path = _find(template, lambda v: v == "$code")
        if path is not None and path not in paths:
            paths.append(path)
    return paths


def claimed_error(spec: ProviderSpec, status: int, body: Any) -> ErrorSpec | None:
    """The catalogue error an answer claims to be: its code at an envelope's code path, with that status."""
    for path in code_paths(spec):
        code = read(body, path)
        for error in spec.errors:
            if error.code == code and error.status == status:
                return error
    # Envelopes without the code in them (EvoLink's `{"error": {"code": <status>, "type": ...}}`): the first
    # catalogue error whose whole envelope matches.
    return next((e for e in spec.errors if matches(spec, e, status, body)), None)


def matches(spec: ProviderSpec, error: ErrorSpec, status: int, body: Any) -> bool:
    """Whether an answer is exactly this documented error: its status and its envelope."""
    return status == error.status and not envelope_problems(spec, error, body)


def envelope_problems(spec: ProviderSpec, error: ErrorSpec, body: Any, path: Path = ()) -> list[str]:
    """How `body` departs from the provider's envelope for `error` (empty when it matches)."""
    return _compare(_template(spec, error), body, error, spec.envelope.optional, path)


def _compare(template: Any, body: Any, error: ErrorSpec, optional: frozenset[str], path: Path) -> list[str]:
    where = ".".join(str(p) for p in path) or "body"
    if not isinstance(body, Mapping):
        return [f"{where} is {type(body).__name__}, expected an object"]
    problems: list[str] = []
    expected = {"$status": error.status, "$code": error.code, "$type": error.type}
    for key, raw in template.items():
        if key not in body:
            if key not in optional:
                problems.append(f"{where}.{key} is missing")
            continue
        value = body[key]
        if isinstance(raw, Mapping):
            problems += _compare(raw, value, error, optional, (*path, key))
        elif raw == "$message":
            if not isinstance(value, str):
                problems.append(f"{where}.{key} should be a message string, got {value!r}")
        elif raw == "$param":
            continue
        elif isinstance(raw, str) and raw in expected:
            if value != expected[raw]:
                problems.append(f"{where}.{key} is {value!r}, expected {expected[raw]!r}")
        elif value != raw:
            problems.append(f"{where}.{key} is {value!r}, expected {raw!r}")
    return problems
