"""Rules on errors: auth, each documented error code, the envelope, Retry-After, no server errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial

from klingsim.spec import Action, ErrorRole, ErrorSpec, ProviderSpec, RequiredWhen, inferred
from klingsim_contracts import shapes
from klingsim_contracts import strategies as gen
from klingsim_contracts.rules.base import Layer, Need, NotExercised, Rule, RuleFailure
from klingsim_contracts.sandwich import Unavailable
from klingsim_contracts.session import Exchange, Session

MALFORMED_KEY = "not a key!"
_ONE_MIB = 1024 * 1024


def unknown_id(spec: ProviderSpec) -> str:
    """A job id in the provider's documented shape that no job has."""
    template = next(iter(spec.ids.templates.values()))

    def fill(match: re.Match[str]) -> str:
        if match.group(0) == "{unix}":
            return "1700000000"
        return ("0" if match.group(1) in ("hex", "digits") else "z") * int(match.group(2))

    return re.sub(r"\{(hex|alnum|digits):(\d+)\}|\{unix\}", fill, template)


Provoker = Callable[[Session], Exchange]


def _expect(
    session: Session, rule_id: str, error: ErrorSpec, step: str, send: Callable[[], Exchange]
) -> None:
    ex = send()
    if not shapes.matches(session.spec, error, ex.status, ex.response):
        raise RuleFailure(
            rule_id,
            f"{error.status} {error.code} ({step})",
            f"{ex.status} {session.error_of(ex) or 'no documented code'}: {ex.text[:200]}",
            [ex],
            ex.body,
        )


def _provoke(spec: ProviderSpec, code: str) -> tuple[str, Provoker] | None:
    """How to make the target answer `code` without upstream help: (what, function of the session)."""
    roles = {role for role, c in spec.roles.items() if c == code}
    if ErrorRole.MISSING_KEY in roles:
        return "no API key", lambda s: s.call(
            s.create_endpoint.method, s.create_path(), body=_sent(s), auth=False
        )
    if ErrorRole.INVALID_KEY in roles:
        return "a malformed API key", lambda s: s.call(
            s.create_endpoint.method,
            s.create_path(),
            body=_sent(s),
            auth=False,
            headers=s.auth_headers(MALFORMED_KEY),
        )
    if ErrorRole.NOT_FOUND in roles:
        return f"an unknown id {unknown_id(spec)}", lambda s: s.status(unknown_id(spec))
    if ErrorRole.METHOD_NOT_ALLOWED in roles:
        return "DELETE on the create path", lambda s: s.call("DELETE", s.create_path())
    if ErrorRole.MALFORMED_BODY in roles:
        return "a body that is not JSON", lambda s: s.call(
            s.create_endpoint.method, s.create_path(), raw=b"{not json"
        )
    if ErrorRole.BODY_TOO_LARGE in roles:
        return "a body over 1 MiB", lambda s: s.call(
            s.create_endpoint.method, s.create_path(), raw=b'{"x":"' + b"a" * _ONE_MIB + b'"}'
        )
    body_spec = spec.endpoint(Action.CREATE).body
    if body_spec is not None and body_spec.discriminator and body_spec.unknown_variant_error == code:
        unknown = {**_cheap(spec), body_spec.discriminator: "klingsim-unknown-model"}
        return f"{body_spec.discriminator}=klingsim-unknown-model", lambda s: s.create(unknown)
    for variant in gen.variants(spec):
        for rule in variant.rules:
            bodies = [
                b for b in gen.base_bodies(spec) if gen.variant_of(spec, b) == variant and rule.when.holds(b)
            ]
            if rule.error == code and isinstance(rule, RequiredWhen) and bodies:
                body = {k: v for k, v in bodies[0].items() if k not in rule.any_of}
                return (
                    f"a {variant.name} request without {' or '.join(rule.any_of)}",
                    lambda s, b=body: s.create(b),
                )
    for kind, variant, path, error, case in gen.boundary_cases(spec):
        if error == code and not case.valid and kind in ("RANGE", "LENGTH", "ENUM"):
            return f"{'.'.join(path)}={case.note} ({variant.name})", lambda s, b=case.body: s.create(b)
    return None


def _cheap(spec: ProviderSpec) -> dict[str, object]:
    return gen.cheapest(spec, gen.base_bodies(spec))


def _sent(session: Session) -> object:
    """The cheapest body as it is sent (fal's model id moved into the path)."""
    return gen.split(session.spec, _cheap(session.spec))[1]


def _check_error(spec: ProviderSpec, error: ErrorSpec, rule_id: str, session: Session) -> None:
    provoker = _provoke(spec, error.code)
    if provoker is not None:
        what, factory = provoker
        _expect(session, rule_id, error, what, partial(factory, session))
        return
    if error.code == spec.roles.get(ErrorRole.INSUFFICIENT_FUNDS):
        _check_insufficient(spec, error, rule_id, session)
        return
    _check_by_fault(spec, error, rule_id, session)


def _check_insufficient(spec: ProviderSpec, error: ErrorSpec, rule_id: str, session: Session) -> None:
    if not session.has_accounts():
        raise NotExercised("needs --upstream-control to empty the upstream account")
    control = session.need_control()
    control.set_balance(spec.id, session.api_key, 0)
    try:
        _expect(session, rule_id, error, "an empty upstream account", partial(session.create, _cheap(spec)))
    finally:
        session.top_up()


def _check_by_fault(spec: ProviderSpec, error: ErrorSpec, rule_id: str, session: Session) -> None:
    control = session.need_control()
    try:
        control.inject_fault({"provider": spec.id, "endpoint": "create", "error": error.code, "count": 1})
    except Unavailable as missing:
        raise NotExercised(f"needs upstream fault injection: {missing}") from None
    session.fault_window = True
    try:
        _expect(
            session, rule_id, error, f"upstream fault {error.code}", partial(session.create, _cheap(spec))
        )
    finally:
        session.fault_window = False
        control.clear_faults()


def error_rules(spec: ProviderSpec) -> Iterator[Rule]:
    for error in spec.errors:
        provoker = _provoke(spec, error.code)
        needs: frozenset[Need] = frozenset()
        if provoker is None:
            insufficient = error.code == spec.roles.get(ErrorRole.INSUFFICIENT_FUNDS)
            needs = frozenset({Need.ACCOUNTS} if insufficient else {Need.FAULTS})
        rule_id = f"{spec.id.upper()}-ERROR-{re.sub(r'[^A-Za-z0-9]+', '-', error.code).upper()}"
        how = (
            provoker[0] if provoker else ("an empty account" if Need.ACCOUNTS in needs else "upstream fault")
        )
        yield Rule(
            rule_id,
            spec.id,
            f"{error.code}: HTTP {error.status} in the provider's envelope (provoked by {how})",
            error.doc,
            Layer.SANDWICH if needs else Layer.PROPERTY,
            partial(_check_error, spec, error, rule_id),
            needs,
            covers=frozenset({f"error:{error.code}"}),
        )


def passive_rules(spec: ProviderSpec) -> Iterator[Rule]:
    pid = spec.id.upper()
    yield Rule(
        f"{pid}-ERROR-ENVELOPE",
        spec.id,
        "every error answer is in the provider's own envelope, with the documented status for its code",
        spec.envelope.doc,
        Layer.PASSIVE,
    )
    yield Rule(
        f"{pid}-NO-SERVER-ERRORS",
        spec.id,
        "no 5xx answer unless the upstream failed",
        inferred("bad input gets the provider's documented answer, never a 500 (project rule)"),
        Layer.PASSIVE,
    )
    retry = [e for e in spec.errors if e.retry_after is not None]
    if retry:
        yield Rule(
            f"{pid}-RETRY-AFTER",
            spec.id,
            f"{', '.join(e.code for e in retry)} answers carry Retry-After (seconds)",
            (spec.rate_limit.doc if spec.rate_limit else retry[0].doc),
            Layer.PASSIVE,
        )
    yield Rule(
        f"{pid}-ID-FORMAT",
        spec.id,
        f"job ids match {spec.ids.pattern}",
        spec.ids.doc,
        Layer.PASSIVE,
    )
    yield Rule(
        f"{pid}-STATUS-WORDS",
        spec.id,
        f"status words are exactly {sorted(set(spec.lifecycle.words.values()))} (case-sensitive)",
        spec.lifecycle.doc,
        Layer.PASSIVE,
        covers=frozenset(f"status:{word}" for word in spec.lifecycle.words.values()),
    )
