"""Evaluate a create request against a provider's spec: the one pure pipeline (no I/O, no clock).

    body -> query fields -> normalise (hook) -> body checks -> variant (body field or path segment)
         -> field rules (Param) -> required/forbidden-when rules -> callback URL rules
         -> [probed media inputs] -> derived values (hook) -> constraints -> plan (hook) -> price

The simulator runs it in two halves around the one step that needs the simulator (probing klingsim outputs
named as media inputs): `read_request`, then `conclude`. `evaluate` runs both for callers without a
simulator (the OpenAPI generator, the contract kit) and answers an `Evaluation` instead of raising: the
normalised request, the broken constraint's id (None when the request is valid), and the plan and price.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from klingsim.core.urlrules import url_problem
from klingsim.core.validation import check_fields, rule_id, validate
from klingsim.spec import (
    Action,
    Endpoint,
    ErrorRole,
    Facts,
    ParamType,
    Plan,
    ProviderSpec,
    Variant,
    Violation,
)
from klingsim.spec.constraints import first_broken


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a provider makes of one create body."""

    operation: Endpoint
    variant: Variant | None = None
    request: dict[str, Any] | None = None
    derived: Mapping[str, Any] = field(default_factory=dict)
    violation: Violation | None = None
    plan: Plan | None = None
    price: Decimal | None = None
    callback_url: str | None = None

    @property
    def ok(self) -> bool:
        return self.violation is None

    @property
    def constraint(self) -> str | None:
        """The id of the constraint or field rule the body breaks (`duration:maximum`, `evolink.shots-sum`);
        None when it is valid, or broken in a way no rule names (not JSON, unknown model)."""
        return self.violation.constraint if self.violation is not None else None

    @property
    def error(self) -> str | None:
        """The provider's error code the body is answered with, when it is refused."""
        return self.violation.code if self.violation is not None else None


@dataclass(frozen=True, slots=True)
class Read:
    """The first half: the request as the provider reads it, before probing media inputs."""

    variant: Variant
    request: dict[str, Any]
    callback_url: str | None


def _query_fields(
    spec: ProviderSpec, op: Endpoint, query: Mapping[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """Query parameters a create declares (`?async=true`) fill that body field if the body lacks it."""
    for param in op.query:
        raw = query.get(param.name)
        if raw is None or param.name in body:
            continue
        if param.type is ParamType.BOOLEAN and raw.lower() not in ("true", "false"):
            code = spec.roles[ErrorRole.VALIDATION]
            raise Violation(code, f"{param.name} must be true or false", param.name, f"{param.name}:type")
        body[param.name] = raw.lower() == "true" if param.type is ParamType.BOOLEAN else raw
    return body


_WHOLE = re.compile(r"-?[0-9]+")


def check_query(spec: ProviderSpec, op: Endpoint, query: Mapping[str, str]) -> dict[str, Any]:
    """The declared query parameters of a read operation, typed and range-checked (a Violation with the
    param's error, or the VALIDATION role); integers must be written as whole numbers."""
    generic = op.role(spec.roles, ErrorRole.VALIDATION)
    values: dict[str, Any] = {}
    for param in op.query:
        raw = query.get(param.name)
        if raw is None:
            continue
        value: Any = raw
        if param.type is ParamType.INTEGER and _WHOLE.fullmatch(raw):
            value = int(raw)
        elif param.type is ParamType.NUMBER:
            try:
                value = float(raw)
            except ValueError:
                value = raw
        elif param.type is ParamType.BOOLEAN and raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        values[param.name] = value
    return check_fields(op.query, values, generic)


def choose_variant(
    spec: ProviderSpec, op: Endpoint, body: Mapping[str, Any], path_params: Mapping[str, str]
) -> Variant:
    """The variant named by the body field or the path segment the operation's body declares."""
    assert op.body is not None
    declared = op.body
    if not declared.discriminator:
        return declared.variants[0]
    name_of = declared.discriminator
    if declared.discriminator_in == "path":
        name: Any = path_params.get(name_of)
        found = declared.variant(name) if isinstance(name, str) else None
        if found is None:
            code = declared.unknown_variant_error or op.role(spec.roles, ErrorRole.UNKNOWN_MODEL)
            raise Violation(code, f"Unknown {name_of}: {name!r}", param=name_of)
        return found
    name = body.get(name_of)
    if name is None:
        first = declared.variants[0].param(name_of)
        if first is not None and first.has_default:
            name = first.default
        else:
            raise Violation(
                spec.roles[ErrorRole.VALIDATION], f"{name_of} is required", name_of, f"{name_of}:required"
            )
    found = declared.variant(name) if isinstance(name, str) else None
    if found is None:
        code = declared.unknown_variant_error or spec.roles[ErrorRole.VALIDATION]
        raise Violation(code, f"Unknown {name_of}: {name!r}", param=name_of, constraint=f"{name_of}:enum")
    return found


def callback_url(spec: ProviderSpec, request: Mapping[str, Any], allow_http: bool = False) -> str | None:
    """The job's callback URL if the provider takes one and the request gives one; a Violation if it breaks
    the provider's URL rules."""
    policy = spec.callbacks
    if policy is None:
        return None
    url = request.get(policy.field)
    if url is None or url == "":
        return None
    problem = url_problem(
        url,
        https_only=policy.https_only,
        refuse_private=policy.refuse_private,
        max_length=policy.max_length,
        allow_http=allow_http,
    )
    if problem is not None:
        code = policy.error or spec.roles[ErrorRole.VALIDATION]
        raise Violation(code, f"{policy.field} {problem}", policy.field, f"{policy.field}:url-rules")
    return str(url)


def read_request(
    spec: ProviderSpec,
    op: Endpoint,
    body: dict[str, Any],
    query: Mapping[str, str] | None = None,
    path_params: Mapping[str, str] | None = None,
    allow_http_callbacks: bool = False,
) -> Read:
    """The first half of the pipeline (raises the first Violation)."""
    body = _query_fields(spec, op, query or {}, body)
    if spec.hooks.normalize is not None:
        body = spec.hooks.normalize(body)
    assert op.body is not None
    if op.body.checks:
        found = first_broken(op.body.checks, Facts(body))
        if found is not None:
            constraint, (message, param) = found
            raise Violation(constraint.error, message, param, constraint.id)
    variant = choose_variant(spec, op, body, path_params or {})
    request = validate(variant, body, spec.roles[ErrorRole.VALIDATION])
    return Read(variant, request, callback_url(spec, request, allow_http_callbacks))


def conclude(
    spec: ProviderSpec,
    variant: Variant,
    request: dict[str, Any],
    settings: Mapping[str, Any],
    probed: Mapping[str, float] | None = None,
) -> tuple[dict[str, Any], Plan]:
    """The second half: derived values, the declared constraints, then the plan (raises a Violation).

    `settings` as the hooks see them: the provider's settings plus `input_seconds`, the probed seconds
    (and, for the plan hook, `derived`).
    """
    seconds = probed if probed is not None else settings.get("input_seconds", {})
    derived = spec.hooks.derive(variant.name, request, settings) if spec.hooks.derive is not None else {}
    if variant.constraints:
        found = first_broken(variant.constraints, Facts(request, derived, seconds, settings))
        if found is not None:
            constraint, (message, param) = found
            raise Violation(constraint.error, message, param, constraint.id)
    # The plan hook reads what `derive` computed under "derived" rather than computing it again.
    with_derived = {**settings, "derived": derived} if derived else settings
    return derived, spec.planner(variant.name, request, with_derived)


def evaluate(
    spec: ProviderSpec,
    body: Any,
    operation: Endpoint | str | None = None,
    *,
    query: Mapping[str, str] | None = None,
    path_params: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
    probed: Mapping[str, float] | None = None,
    allow_http_callbacks: bool = False,
) -> Evaluation:
    """What the provider makes of `body` sent to a create `operation` (default: its first create).

    Pure: the same arguments give the same Evaluation. `settings` default to the spec's; `probed` are the
    seconds of media inputs the simulator could probe (none, for a caller without one).
    """
    op = _create_op(spec, operation)
    if not isinstance(body, dict):
        violation = Violation(
            spec.roles[ErrorRole.MALFORMED_BODY], "Request body must be a JSON object", None, "body:type"
        )
        return Evaluation(op, violation=violation)
    values = dict(settings) if settings is not None else spec.setting_values()
    values["input_seconds"] = dict(probed or {})
    variant: Variant | None = None
    request: dict[str, Any] | None = None
    derived: Mapping[str, Any] = {}
    try:
        read = read_request(spec, op, dict(body), query, path_params, allow_http_callbacks)
        variant, request = read.variant, read.request
        derived, plan = conclude(spec, variant, request, values, probed or {})
        price = spec.prices.price(plan.price_key, plan.billed_seconds)
    except Violation as violation:
        return Evaluation(op, variant, request, derived, violation)
    return Evaluation(op, variant, request, derived, None, plan, price, read.callback_url)


def _create_op(spec: ProviderSpec, operation: Endpoint | str | None) -> Endpoint:
    if isinstance(operation, Endpoint):
        return operation
    if operation is not None:
        return spec.operation(operation)
    return spec.operations(Action.CREATE)[0]


# ----------------------------------------------------------------------------- the constraint catalogue
@dataclass(frozen=True, slots=True)
class ConstraintInfo:
    """One declared rule of a provider, for the contract kit: where it applies and what it answers."""

    id: str
    operation: str
    variant: str
    error: str
    doc: Any
    kind: str
    constraint: Any


def constraints(spec: ProviderSpec) -> Iterator[ConstraintInfo]:
    """Every declared cross-field rule of every create operation (body checks, rules, constraints)."""
    for op in spec.operations(Action.CREATE):
        if op.body is None:
            continue
        for check in op.body.checks:
            yield ConstraintInfo(check.id, op.op_id, "", check.error, check.doc, type(check).__name__, check)
        for variant in op.body.variants:
            for rule in variant.rules:
                yield ConstraintInfo(
                    rule_id(rule), op.op_id, variant.name, rule.error, rule.doc, type(rule).__name__, rule
                )
            for c in variant.constraints:
                yield ConstraintInfo(c.id, op.op_id, variant.name, c.error, c.doc, type(c).__name__, c)


def broken_constraint(spec: ProviderSpec, body: Any, operation: Endpoint | str | None = None) -> str | None:
    """The id of the rule `body` breaks (None when the provider accepts it, or no rule names the refusal)."""
    return evaluate(spec, body, operation).constraint


__all__ = [
    "ConstraintInfo",
    "Evaluation",
    "Read",
    "broken_constraint",
    "callback_url",
    "check_query",
    "choose_variant",
    "conclude",
    "constraints",
    "evaluate",
    "read_request",
]
