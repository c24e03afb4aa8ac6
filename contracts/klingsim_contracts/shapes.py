"""Where a provider's answers put the job id, status word, progress, outputs and cost.

Read from the response shapes the spec declares for its create and status operations (`Endpoint.response`,
fields marked with a `Unit`), so the kit reads any provider's answers without a hand-written map, and the
simulator's renderers, its OpenAPI and the kit agree on one declaration.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from klingsim.spec import Action, DocRef, ErrorSpec, ProviderSpec
from klingsim.spec.shapes import Shape, Unit

Path = tuple[str | int, ...]

_PROGRESS_SCALES = {Unit.PERCENT: 100.0, Unit.FRACTION: 1.0}


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
    progress_doc: DocRef | None = None
    outputs_in_result: bool = False  # the outputs are on a result operation of their own (fal)


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


def _response(spec: ProviderSpec, action: Action) -> Shape:
    shape = spec.endpoint(action).response
    if shape is None:
        raise ValueError(f"{spec.id} declares no response shape for its {action} operation")
    return shape


def _at(shape: Shape, unit: Unit) -> Path | None:
    paths = shape.with_unit(unit)
    return paths[0] if paths else None


def _shape_at(shape: Shape, path: Path) -> Shape:
    return next(s for p, s in shape.paths() if p == path)


def discover(spec: ProviderSpec) -> Shapes:
    """The declared places of a provider's job fields (its create and status answers)."""
    created, job = _response(spec, Action.CREATE), _response(spec, Action.STATUS)
    results = [e.response for e in spec.operations(Action.RESULT) if e.response is not None]
    outputs = _at(results[0], Unit.URL) if results else None
    progress, scale, whole, doc = None, 1.0, False, None
    for unit, top in _PROGRESS_SCALES.items():
        found = _at(job, unit)
        if found is not None:
            progress, scale = found, top
            declared = _shape_at(job, found)
            whole, doc = declared.type == "integer", declared.doc
            break
    return Shapes(
        created_id=_at(created, Unit.JOB_ID),
        created_status=_at(created, Unit.STATUS),
        job_id=_at(job, Unit.JOB_ID),
        job_status=_at(job, Unit.STATUS),
        progress=progress,
        progress_scale=scale,
        progress_whole=whole,
        outputs=outputs if outputs is not None else _at(job, Unit.URL),
        created_cost=_at(created, Unit.MONEY),
        job_cost=_at(job, Unit.MONEY),
        progress_doc=doc,
        outputs_in_result=outputs is not None,
    )


# ----------------------------------------------------------------------------- error envelopes
def _template(spec: ProviderSpec, error: ErrorSpec) -> Mapping[str, Any]:
    return error.envelope if error.envelope is not None else spec.envelope.template


def code_paths(spec: ProviderSpec) -> list[Path]:
    """Where the error code sits in each envelope the provider uses."""
    templates = [spec.envelope.template] + [e.envelope for e in spec.errors if e.envelope is not None]
    paths: list[Path] = []
    for template in templates:
        path = _find(template, lambda v: v in ("$code", "$code_number"))
        if path is not None and path not in paths:
            paths.append(path)
    return paths


def claimed_error(spec: ProviderSpec, status: int, body: Any) -> ErrorSpec | None:
    """The catalogue error an answer claims to be: its code at an envelope's code path, with that status."""
    for path in code_paths(spec):
        code = read(body, path)
        if isinstance(code, int) and not isinstance(code, bool):
            code = str(code)  # Kling's numeric codes (`$code_number`)
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
    for key, raw in template.items():
        if key not in body:
            if key not in optional:
                problems.append(f"{where}.{key} is missing")
            continue
        problems += _compare_value(raw, body[key], error, optional, (*path, key))
    return problems


def _compare_value(raw: Any, value: Any, error: ErrorSpec, optional: frozenset[str], path: Path) -> list[str]:
    """One template value against the answer's: objects and lists item by item, placeholders by kind."""
    where = ".".join(str(p) for p in path)
    number = int(error.code) if error.code.isdigit() else error.code
    expected = {"$status": error.status, "$code": error.code, "$type": error.type, "$code_number": number}
    if isinstance(raw, Mapping):
        return _compare(raw, value, error, optional, path)
    if isinstance(raw, list):
        return _compare_list(raw, value, error, optional, path)
    if raw == "$param":
        return []
    if raw in ("$message", "$request_id"):
        what = "a message" if raw == "$message" else "a request id"
        return [] if isinstance(value, str) else [f"{where} should be {what} string, got {value!r}"]
    if isinstance(raw, str) and raw in expected:
        want = expected[raw]
        same = value == want and type(value) is type(want)  # Kling's 1201 is a number, not "1201"
        return [] if same else [f"{where} is {value!r}, expected {want!r}"]
    return [] if value == raw else [f"{where} is {value!r}, expected {raw!r}"]


def _compare_list(
    raw: list[Any], value: Any, error: ErrorSpec, optional: frozenset[str], path: Path
) -> list[str]:
    """fal's `{"detail": [{loc, msg, type}]}`: a template of one object stands for each item (at least one);
    a template of values is matched item by item, a trailing `$param` standing for the rest of the path."""
    where = ".".join(str(p) for p in path)
    if not isinstance(value, list) or not value:
        return [f"{where} should be a non-empty list, got {value!r}"]
    if len(raw) == 1 and isinstance(raw[0], Mapping):
        return [
            p for i, item in enumerate(value) for p in _compare(raw[0], item, error, optional, (*path, i))
        ]
    problems: list[str] = []
    for i, template in enumerate(raw):
        if template == "$param":
            break
        if i >= len(value):
            return [*problems, f"{where} has {len(value)} items, expected at least {i + 1}"]
        problems += _compare_value(template, value[i], error, optional, (*path, i))
    return problems
