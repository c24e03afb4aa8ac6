"""Each provider's OpenAPI 3.1 document, derived from its spec: ranges, enums, bearer auth, every error."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from klingsim.spec import (
    Endpoint,
    ErrorSpec,
    ForbiddenWhen,
    Param,
    ParamType,
    ProviderSpec,
    RequiredWhen,
    Variant,
    fill_envelope,
)

_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    413: "Content Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def param_schema(param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number" if param.type is ParamType.NUMBER else str(param.type)}
    if param.whole and param.type is ParamType.NUMBER:
        schema["multipleOf"] = 1
    if param.nullable:
        schema["type"] = [schema["type"], "null"]
    for attr, key in (
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("min_length", "minLength"),
        ("max_length", "maxLength"),
        ("max_items", "maxItems"),
    ):
        value = getattr(param, attr)
        if value is not None:
            schema[key] = value
    if param.min_length == 1:
        schema["pattern"] = r"\S"  # blank strings count as empty, as the provider refuses them
    if param.enum is not None:
        schema["enum"] = list(param.enum)
    if param.has_default:
        schema["default"] = param.default
    if (
        param.example is not param.default
        and param.example is not None
        and repr(param.example) != "NO_DEFAULT"
    ):
        schema["examples"] = [param.example]
    if param.items is not None:
        schema["items"] = param_schema(param.items)
    if param.properties:
        schema["properties"] = {p.name: param_schema(p) for p in param.properties}
        required = [p.name for p in param.properties if p.required]
        if required:
            schema["required"] = required
    text = param.description or ""
    schema["description"] = f"{text} (source: {param.doc.cite()})".strip()
    return schema


def _condition(rule: RequiredWhen | ForbiddenWhen) -> dict[str, Any]:
    when = rule.when
    if when.values:
        prop: dict[str, Any] = {"enum": list(when.values)}
    else:
        prop = {"pattern": "(" + "|".join(s.replace("-", r"\-") for s in when.suffixes) + ")$"}
    return {"properties": {when.field: prop}, "required": [when.field]}


def variant_schema(variant: Variant, discriminator: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "title": variant.name,
        "properties": {p.name: param_schema(p) for p in variant.params},
        "description": f"{variant.description} (source: {variant.doc.cite()})".strip(),
    }
    if discriminator and discriminator in schema["properties"]:
        schema["properties"][discriminator] = {**schema["properties"][discriminator], "enum": [variant.name]}
    required = [p.name for p in variant.params if p.required]
    if required:
        schema["required"] = required
    clauses = []
    for rule in variant.rules:
        if isinstance(rule, RequiredWhen):
            then: dict[str, Any] = {"anyOf": [{"required": [f]} for f in rule.any_of]}
        else:
            then = {"not": {"anyOf": [{"required": [f]} for f in rule.fields]}}
        clauses.append({"if": _condition(rule), "then": then, "description": rule.doc.cite()})
    if clauses:
        schema["allOf"] = clauses
    return schema


def _error_responses(spec: ProviderSpec, codes: tuple[str, ...]) -> dict[str, Any]:
    by_status: dict[int, list[ErrorSpec]] = defaultdict(list)
    for code in codes:
        err = spec.error(code)
        by_status[err.status].append(err)
    responses: dict[str, Any] = {}
    for status, errors in sorted(by_status.items()):
        examples = {
            e.code: {
                "summary": f"{e.code} ({e.doc.cite()})",
                "value": fill_envelope(
                    e.envelope or spec.envelope.template, e, e.message, None, spec.envelope.optional
                ),
            }
            for e in errors
        }
        entry: dict[str, Any] = {
            "description": _STATUS_TEXT.get(status, "Error") + ": " + ", ".join(e.code for e in errors),
            "content": {"application/json": {"schema": {"type": "object"}, "examples": examples}},
        }
        if any(e.retry_after is not None for e in errors):
            entry["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}
            }
        responses[str(status)] = entry
    return responses


def _operation(spec: ProviderSpec, endpoint: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{spec.id}_{endpoint.action}",
        "summary": endpoint.summary,
        "description": f"Source: {endpoint.doc.cite()}",
        "responses": {
            str(endpoint.success_status): {
                "description": "Success",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **_error_responses(spec, endpoint.errors),
        },
    }
    parameters = []
    if endpoint.id_param and endpoint.id_in == "path":
        parameters.append(
            {"name": endpoint.id_param, "in": "path", "required": True, "schema": {"type": "string"}}
        )
    for q in endpoint.query:
        parameters.append({"name": q.name, "in": "query", "required": q.required, "schema": param_schema(q)})
    if parameters:
        op["parameters"] = parameters
    if endpoint.body is not None:
        variants = endpoint.body.variants
        disc = endpoint.body.discriminator
        schema = (
            variant_schema(variants[0])
            if len(variants) == 1
            else {
                "oneOf": [variant_schema(v, disc) for v in variants],
            }
        )
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return op


def openapi_document(spec: ProviderSpec, server_url: str | None = None) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for endpoint in spec.endpoints:
        paths[endpoint.path][endpoint.method.lower()] = _operation(spec, endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": spec.title,
            "version": "klingsim",
            "description": "Simulated by klingsim. Sources: " + "; ".join(d.cite() for d in spec.docs),
        },
        "servers": [{"url": server_url or spec.base_url}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
        "paths": dict(paths),
    }
