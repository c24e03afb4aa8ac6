"""Each provider's OpenAPI 3.1 document, derived from its spec: request ranges and enums, its auth schemes,
typed success bodies (from the declared response shapes) and every error body (from its envelope)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from klingsim.spec import (
    Action,
    Endpoint,
    ErrorSpec,
    ForbiddenWhen,
    JwtHs256,
    Param,
    ParamType,
    ProviderSpec,
    RequiredWhen,
    Shape,
    TokenScheme,
    Unit,
    Variant,
    fill_envelope,
)

_PATH_PARAM = re.compile(r"\{(\w+)(?::path)?\}")
_PATH_PARAM_TEMPLATE = re.compile(r"\{(\w+):path\}")

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


# ----------------------------------------------------------------------------- response schemas
_UNIT_RANGES = {Unit.FRACTION: (0, 1), Unit.PERCENT: (0, 100)}
_UNIT_FORMATS = {Unit.ISO_8601: "date-time", Unit.URL: "uri"}


def shape_schema(spec: ProviderSpec, shape: Shape) -> dict[str, Any]:
    """The JSON Schema of a declared response shape; the `status` and `job-id` units read the spec."""
    if shape.type == "any":
        return {"description": shape.description} if shape.description else {}
    schema: dict[str, Any] = {"type": [shape.type, "null"] if shape.nullable else shape.type}
    enum = shape.enum
    if shape.unit is Unit.STATUS:
        enum = tuple(dict.fromkeys(spec.lifecycle.words.values()))
    if enum is not None:
        schema["enum"] = [*enum, None] if shape.nullable else list(enum)
    low, high = _UNIT_RANGES.get(shape.unit, (shape.minimum, shape.maximum))
    low = shape.minimum if shape.minimum is not None else low
    high = shape.maximum if shape.maximum is not None else high
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    pattern = f"^(?:{spec.ids.pattern})$" if shape.unit is Unit.JOB_ID else shape.pattern
    if pattern:
        schema["pattern"] = pattern
    if shape.unit in _UNIT_FORMATS:
        schema["format"] = _UNIT_FORMATS[shape.unit]
    if shape.fields:
        schema["properties"] = {f.name: shape_schema(spec, f.shape) for f in shape.fields}
        required = [f.name for f in shape.fields if f.required]
        if required:
            schema["required"] = required
    if shape.type == "object" and not shape.open:
        schema["additionalProperties"] = False
    if shape.items is not None:
        schema["items"] = shape_schema(spec, shape.items)
    notes = [t for t in (shape.description, f"unit: {shape.unit}" if shape.unit else "") if t]
    if notes:
        schema["description"] = "; ".join(notes)
    return schema


_PLACEHOLDERS: dict[str, dict[str, Any]] = {
    "$status": {"type": "integer"},
    "$code": {"type": "string"},
    "$code_number": {"type": "integer"},
    "$request_id": {"type": "string"},
    "$message": {"type": "string"},
    "$type": {"type": "string"},
    "$param": {"type": ["string", "null"]},
}


def envelope_schema(template: Any, optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The JSON Schema of an error envelope template (`$code`... placeholders, literal values)."""
    if isinstance(template, Mapping):
        props = {k: envelope_schema(v, optional) for k, v in template.items()}
        schema: dict[str, Any] = {"type": "object", "properties": props}
        required = [k for k in template if k not in optional]
        if required:
            schema["required"] = required
        return schema
    if isinstance(template, str) and template in _PLACEHOLDERS:
        return dict(_PLACEHOLDERS[template])
    if isinstance(template, list):
        items = [envelope_schema(item, optional) for item in template]
        return {"type": "array", "prefixItems": items} if items else {"type": "array"}
    return {"const": template}


def _error_schema(spec: ProviderSpec, errors: list[ErrorSpec]) -> dict[str, Any]:
    schemas: dict[str, dict[str, Any]] = {}
    for err in errors:
        template = err.envelope if err.envelope is not None else spec.envelope.template
        schema = envelope_schema(template, spec.envelope.optional)
        schemas[json.dumps(schema, sort_keys=True)] = schema
    found = list(schemas.values())
    return found[0] if len(found) == 1 else {"anyOf": found}


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
            "content": {"application/json": {"schema": _error_schema(spec, errors), "examples": examples}},
        }
        headers: dict[str, Any] = {}
        if any(e.retry_after is not None for e in errors):
            headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "seconds to wait"}
        for err in errors:
            for name in err.headers or {}:
                headers[name] = {"schema": {"type": "string"}, "description": f"sent with {err.code}"}
        if headers:
            entry["headers"] = headers
        responses[str(status)] = entry
    return responses


def _success_schema(spec: ProviderSpec, endpoint: Endpoint) -> dict[str, Any]:
    if endpoint.response is None:
        return {"type": "object"}
    return shape_schema(spec, endpoint.response)


def _pending_schema(spec: ProviderSpec, endpoint: Endpoint) -> dict[str, Any]:
    """A RESULT answers the job's status body while it runs; other operations their own body."""
    if endpoint.action is Action.RESULT:
        status = next((e for e in spec.operations(Action.STATUS) if e.response is not None), None)
        return _success_schema(spec, status) if status is not None else {"type": "object"}
    return _success_schema(spec, endpoint)


def _path_params(spec: ProviderSpec, endpoint: Endpoint) -> list[dict[str, Any]]:
    found = []
    for name in _PATH_PARAM.findall(endpoint.path):
        schema: dict[str, Any] = {"type": "string"}
        body = endpoint.body
        if body is not None and body.discriminator_in == "path" and body.discriminator == name:
            schema["enum"] = [v.name for v in body.variants]
        found.append({"name": name, "in": "path", "required": True, "schema": schema})
    return found


def _operation(spec: ProviderSpec, endpoint: Endpoint) -> dict[str, Any]:
    name = endpoint.op_id
    responses: dict[str, Any] = {
        str(endpoint.success_status): {
            "description": "Success",
            "content": {"application/json": {"schema": _success_schema(spec, endpoint)}},
        },
    }
    if endpoint.pending_status is not None:
        responses[str(endpoint.pending_status)] = {
            "description": "The job has not finished yet",
            "content": {"application/json": {"schema": _pending_schema(spec, endpoint)}},
        }
    op: dict[str, Any] = {
        "operationId": f"{spec.id}_{name}",
        "summary": endpoint.summary,
        "description": f"Source: {endpoint.doc.cite()}",
        "responses": {**responses, **_error_responses(spec, endpoint.errors)},
    }
    parameters = _path_params(spec, endpoint)
    declared = {q.name for q in endpoint.query}
    if endpoint.id_param and endpoint.id_in == "query" and endpoint.id_param not in declared:
        parameters.append(
            {"name": endpoint.id_param, "in": "query", "required": True, "schema": {"type": "string"}}
        )
    for q in endpoint.query:
        parameters.append({"name": q.name, "in": "query", "required": q.required, "schema": param_schema(q)})
    if parameters:
        op["parameters"] = parameters
    if endpoint.body is not None:
        variants = endpoint.body.variants
        disc = endpoint.body.discriminator if endpoint.body.discriminator_in == "body" else ""
        schema = (
            variant_schema(variants[0])
            if len(variants) == 1
            else {
                "oneOf": [variant_schema(v, disc) for v in variants],
            }
        )
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return op


def security_schemes(spec: ProviderSpec) -> dict[str, dict[str, Any]]:
    """One OpenAPI security scheme per declared auth scheme, in the order they are read."""
    schemes: dict[str, dict[str, Any]] = {}
    for scheme in spec.auth.accepted:
        if isinstance(scheme, JwtHs256):
            schemes["bearerAuth"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        elif isinstance(scheme, TokenScheme) and scheme.prefix.lower() == "bearer":
            schemes["bearerAuth"] = {"type": "http", "scheme": "bearer"}
        elif isinstance(scheme, TokenScheme):
            schemes[f"{scheme.prefix.lower()}Auth"] = {
                "type": "apiKey",
                "in": "header",
                "name": scheme.header.title(),
                "description": f"{scheme.header.title()}: {scheme.prefix} <key>",
            }
        else:
            schemes[re.sub(r"\W", "", scheme.header.title()) + "Auth"] = {
                "type": "apiKey",
                "in": "header",
                "name": scheme.header,
            }
    return schemes


def openapi_document(spec: ProviderSpec, server_url: str | None = None) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for endpoint in spec.endpoints:
        path = _PATH_PARAM_TEMPLATE.sub(r"{\1}", endpoint.path)
        paths[path][endpoint.method.lower()] = _operation(spec, endpoint)
    schemes = security_schemes(spec)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": spec.title,
            "version": "klingsim",
            "description": "Simulated by klingsim. Sources: " + "; ".join(d.cite() for d in spec.docs),
        },
        "servers": [{"url": server_url or spec.base_url}],
        "components": {"securitySchemes": schemes},
        "security": [{name: []} for name in schemes],
        "paths": dict(paths),
    }
