"""Rules on access: auth, callback URL rules and retries, rate limits with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from klingsim.spec import ErrorRole, ProviderSpec
from klingsim_contracts import flows, shapes
from klingsim_contracts import strategies as gen
from klingsim_contracts.rules.base import Layer, NotExercised, Rule, RuleFailure
from klingsim_contracts.rules.errors import MALFORMED_KEY
from klingsim_contracts.session import Session


def _check_auth(spec: ProviderSpec, rule_id: str, key: str | None, session: Session) -> None:
    code = spec.roles[ErrorRole.MISSING_KEY if key is None else ErrorRole.INVALID_KEY]
    error = spec.error(code)
    headers = session.auth_headers(key) if key is not None else {}
    path, body, _ = gen.split(spec, flows.cheap_body(spec))
    ep = session.create_endpoint
    ex = session.call(ep.method, path, body=body, auth=False, headers=headers)
    if not shapes.matches(spec, error, ex.status, ex.response):
        raise RuleFailure(
            rule_id,
            f"{error.status} {code}",
            f"{ex.status} {session.error_of(ex) or ex.text[:200]}",
            [ex],
            body,
        )
    job_ep = session.status_endpoint
    if job_ep.id_in == "query":
        poll = session.call(
            job_ep.method, job_ep.path, params={job_ep.id_param: "x"}, auth=False, headers=headers
        )
    else:
        poll = session.call(
            job_ep.method, job_ep.path.replace("{" + job_ep.id_param + "}", "x"), auth=False, headers=headers
        )
    if poll.status != error.status:
        raise RuleFailure(rule_id, f"{error.status} {code} on the status endpoint", poll.summary(), [poll])


def _callback_cases(spec: ProviderSpec) -> list[tuple[str, str]]:
    policy = spec.callbacks
    assert policy is not None
    cases: list[tuple[str, str]] = []
    if policy.https_only:
        cases.append(("plain http", "http://example.com/klingsim/hook"))
    if policy.refuse_private:
        cases += [("loopback", "https://127.0.0.1/hook"), ("private", "https://10.0.0.7/hook")]
    if policy.max_length:
        base = "https://example.com/"
        cases.append((f"{policy.max_length + 1} chars", base + "a" * (policy.max_length + 1 - len(base))))
    return cases


def _check_callback_url(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    policy = spec.callbacks
    assert policy is not None
    error = policy.error or gen.generic_error(spec)
    for variant in gen.variants(spec):
        base = gen.base_for(spec, variant, (policy.field,))
        if base is None:
            continue
        for what, url in _callback_cases(spec):
            session.reject({**base, policy.field: url}, error, rule_id, f"{policy.field} {what}")
        return
    raise NotExercised(f"no variant takes {policy.field}")


def _callback_retries(spec: ProviderSpec, session: Session) -> None:
    raise NotExercised("needs a callback receiver the gateway can reach over HTTPS; not available to the kit")


def _check_rate_limit(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    limit = spec.rate_limit
    assert limit is not None
    code = spec.roles[ErrorRole.RATE_LIMITED]
    session.expect_throttle = True
    try:
        _burst(spec, rule_id, session, code)
    finally:
        session.expect_throttle = False
    if session.control is not None and session.control.virtual_clock():
        session.control.advance(limit.per_seconds + 1)


def _burst(spec: ProviderSpec, rule_id: str, session: Session, code: str) -> None:
    limit = spec.rate_limit
    assert limit is not None
    error = spec.error(code)
    for i in range(limit.requests + 1):
        ex = session.status("x" * 8, step=f"burst {i + 1}")
        if ex.status == error.status:
            if (
                not shapes.matches(spec, error, ex.status, ex.response)
                or not ex.response_headers.get("retry-after", "").isdigit()
            ):
                raise RuleFailure(
                    rule_id,
                    f"{error.status} {code} with Retry-After",
                    f"{ex.summary()} {ex.response_headers}",
                    [ex],
                )
            break
    else:
        raise RuleFailure(
            rule_id,
            f"{error.status} {code} after {limit.requests} requests in {limit.per_seconds} s",
            f"{limit.requests + 1} requests, none limited",
            session.trail[-1:],
        )


def access_rules(spec: ProviderSpec) -> Iterator[Rule]:
    pid = spec.id.upper()
    yield Rule(
        f"{pid}-AUTH-MISSING-KEY",
        spec.id,
        f"requests without an API key get {spec.roles[ErrorRole.MISSING_KEY]}",
        spec.auth.doc,
        Layer.PROPERTY,
        partial(_check_auth, spec, f"{pid}-AUTH-MISSING-KEY", None),
    )
    yield Rule(
        f"{pid}-AUTH-INVALID-KEY",
        spec.id,
        f"requests with a malformed API key get {spec.roles[ErrorRole.INVALID_KEY]}",
        spec.auth.doc,
        Layer.PROPERTY,
        partial(_check_auth, spec, f"{pid}-AUTH-INVALID-KEY", MALFORMED_KEY),
    )
    if spec.callbacks is not None:
        yield Rule(
            f"{pid}-CALLBACK-URL",
            spec.id,
            f"{spec.callbacks.field} must be https, public, at most {spec.callbacks.max_length} chars",
            spec.callbacks.doc,
            Layer.PROPERTY,
            partial(_check_callback_url, spec, f"{pid}-CALLBACK-URL"),
        )
        yield Rule(
            f"{pid}-CALLBACK-RETRIES",
            spec.id,
            f"callbacks retried after {', '.join(f'{d:g}' for d in spec.callbacks.retry_delays)} s",
            spec.callbacks.doc,
            Layer.SANDWICH,
            partial(_callback_retries, spec),
        )
    if spec.rate_limit is not None:
        yield Rule(
            f"{pid}-RATE-LIMIT",
            spec.id,
            f"more than {spec.rate_limit.requests} requests in {spec.rate_limit.per_seconds} s get "
            f"{spec.roles[ErrorRole.RATE_LIMITED]} with Retry-After",
            spec.rate_limit.doc,
            Layer.PROPERTY,
            partial(_check_rate_limit, spec, f"{pid}-RATE-LIMIT"),
            order=10,
        )
