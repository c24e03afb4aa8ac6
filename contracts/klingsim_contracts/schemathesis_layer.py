"""Breadth: schemathesis over the provider's OpenAPI (derived from its spec by klingsim.core.openapi).

Per operation, positive and negative cases: every answer must be a status the document lists for that
operation (so 402 counts where the provider documents it), JSON, and never a 5xx. Refusals are not judged
here: the OpenAPI can't say everything the provider checks (EvoLink's prompt, required unless multi-shot),
so the property rules judge acceptance and refusal precisely, rule by rule. Requests go through the kit's
target, so the layer runs against a URL or an in-process ASGI app alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance

from klingsim.core.openapi import openapi_document
from klingsim.spec import Action, ErrorRole, ProviderSpec
from klingsim_contracts.properties import run_examples
from klingsim_contracts.rules.base import Layer, Rule, RuleFailure
from klingsim_contracts.session import Session

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


def expected_statuses(spec: ProviderSpec, action: Action) -> set[int]:
    """What a valid request may get: success, or the provider's no-credits and rate-limit answers."""
    endpoint = spec.endpoint(action)
    extra = {spec.role(ErrorRole.INSUFFICIENT_FUNDS).status, spec.role(ErrorRole.RATE_LIMITED).status}
    return (
        {endpoint.success_status, *extra} if action is Action.CREATE else {endpoint.success_status, 404, 400}
    )


def _operation(spec: ProviderSpec, action: Action) -> Any:
    schema = schemathesis.openapi.from_dict(openapi_document(spec))
    endpoint = spec.endpoint(action)
    for result in schema.get_all_operations():
        op = result.ok()  # type: ignore[union-attr]  # a derived document has no invalid operations
        # The document writes a `{model_id:path}` template as `{model_id}` (OpenAPI has no multi-segment one).
        if op.method.upper() == endpoint.method and op.path == endpoint.path.replace(":path}", "}"):
            return op
    raise LookupError(f"{spec.id} OpenAPI has no {endpoint.method} {endpoint.path}")


def _send(session: Session, case: Any) -> tuple[Any, httpx.Response]:
    path = case.formatted_path
    body = case.body if isinstance(case.body, dict | list) else None
    ex = session.call(case.method, path, body=body, params=case.query or None, step="schemathesis case")
    response = httpx.Response(
        ex.status,
        headers=ex.response_headers,
        content=(ex.text or "").encode() if ex.text else b"",
        request=httpx.Request(case.method, ex.url),
    )
    response.elapsed = timedelta(0)  # schemathesis reads it; the kit's own clock is not its business
    return ex, response


def _check(rule_id: str, session: Session, pair: tuple[str, Any]) -> None:
    _, case = pair
    ex, response = _send(session, case)
    shown = case.body if isinstance(case.body, dict | list) else {"query": case.query}
    try:
        case.validate_response(response, checks=CHECKS)
    except (Exception, BaseExceptionGroup) as failure:  # schemathesis raises a FailureGroup of its findings
        raise RuleFailure(
            rule_id,
            "a documented status and content type, no 5xx",
            f"{ex.status}: {failure}"[:400],
            [ex],
            shown,
        ) from None


def _run(spec: ProviderSpec, action: Action, rule_id: str, session: Session) -> None:
    op = _operation(spec, action)
    cases = st.one_of(
        op.as_strategy(GenerationMode.POSITIVE).map(lambda c: ("positive", c)),
        op.as_strategy(GenerationMode.NEGATIVE).map(lambda c: ("negative", c)),
    )
    session.top_up()
    run_examples(session, rule_id, cases, partial(_check, rule_id, session))


def schema_rules(spec: ProviderSpec) -> Iterator[Rule]:
    for action in (Action.CREATE, Action.STATUS):
        endpoint = spec.endpoint(action)
        rule_id = f"{spec.id.upper()}-OPENAPI-{action.value.upper()}"
        yield Rule(
            rule_id,
            spec.id,
            f"{endpoint.method} {endpoint.path}: documented statuses, JSON answers, no 5xx (schemathesis)",
            endpoint.doc,
            Layer.SCHEMA,
            partial(_run, spec, action, rule_id),
        )
