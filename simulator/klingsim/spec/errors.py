"""Error catalogue: each provider's documented errors, its envelope, and which error answers what."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from klingsim.spec.doc import DocRef


class ErrorRole(StrEnum):
    """Situations the engine meets on every provider; each provider maps them to one of its own errors."""

    MISSING_KEY = "missing_key"
    INVALID_KEY = "invalid_key"
    MALFORMED_BODY = "malformed_body"
    VALIDATION = "validation"
    BODY_TOO_LARGE = "body_too_large"
    NOT_FOUND = "not_found"
    ROUTE_NOT_FOUND = "route_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"
    UNKNOWN_MODEL = "unknown_model"
    ALREADY_FINISHED = "already_finished"  # a cancel of a job that has ended (fal's ALREADY_COMPLETED)
    TOO_MANY_JOBS = "too_many_jobs"  # more unfinished jobs than the account may have (Kling 1303)


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """One documented error: HTTP status, the provider's code and its default message.

    `type` is the provider's error class where it has one (EvoLink, EmpirioLabs); `envelope` overrides the
    provider's envelope for this error only (EvoLink's string-coded `invalid_task_id`).
    """

    code: str
    status: int
    message: str
    doc: DocRef
    type: str = ""
    envelope: Mapping[str, Any] | None = None
    retry_after: int | None = None
    headers: Mapping[str, str] | None = None  # sent with the error; `$code` and `$type` are filled in

    def header_values(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (name.lower(), value.replace("$code", self.code).replace("$type", self.type))
            for name, value in (self.headers or {}).items()
        )


@dataclass(frozen=True, slots=True)
class Envelope:
    """The JSON shape of an error, as a template: the strings `$status`, `$code`, `$message`, `$type` and
    `$param` are replaced by the error's values, also inside nested objects and lists; keys whose value
    resolves to None are dropped when listed in `optional`. `$code_number` is the code as a JSON number
    (Kling's `{"code": 1201}`); `$request_id` a fresh id for each answer, filled when `answer_ids` is set."""

    template: Mapping[str, Any]
    doc: DocRef
    optional: frozenset[str] = frozenset()
    answer_ids: bool = False


def fill_envelope(
    template: Mapping[str, Any],
    error: ErrorSpec,
    message: str,
    param: str | None,
    optional: frozenset[str] = frozenset(),
    request_id: str = "",
) -> dict[str, Any]:
    """Instantiate an envelope template for one error (`request_id`: this answer's id, for `$request_id`)."""
    values: dict[str, Any] = {
        "$status": error.status,
        "$code": error.code,
        "$code_number": int(error.code) if error.code.isdigit() else error.code,
        "$message": message,
        "$type": error.type,
        "$param": param,
        "$request_id": request_id,
    }
    out: dict[str, Any] = {}
    for key, raw in template.items():
        value = _fill(raw, values, error, message, param, optional, request_id)
        if value is None and key in optional:
            continue
        out[key] = value
    return out


def _fill(
    raw: Any,
    values: Mapping[str, Any],
    error: ErrorSpec,
    message: str,
    param: str | None,
    optional: frozenset[str],
    request_id: str = "",
) -> Any:
    """One template value: objects and lists are filled item by item (fal's `{"detail": [{"loc": ...}]}`)."""
    if isinstance(raw, Mapping):
        return fill_envelope(raw, error, message, param, optional, request_id)
    if isinstance(raw, list):
        return [_fill(item, values, error, message, param, optional, request_id) for item in raw]
    return values.get(raw, raw) if isinstance(raw, str) else raw
