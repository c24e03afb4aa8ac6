"""Rules on what a gateway's job answers carry: ids of the documented shape, progress on the documented scale.

A gateway that re-issues ids, or reports EvoLink's integer percent as a fraction (or EmpirioLabs' fraction
as a percent), breaks every client written against the provider's documentation while each answer still
looks plausible on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs are pinned; used for one validator

from klingsim.core.openapi import shape_schema
from klingsim.spec import Action, DocRef, Phase, ProviderSpec, public
from klingsim.spec.shapes import Shape, Unit
from klingsim_contracts import flows, shapes
from klingsim_contracts import strategies as gen
from klingsim_contracts.rules.base import Layer, Need, NotExercised, Rule, RuleFailure
from klingsim_contracts.session import Exchange, Session

_TOKENS = {"hex": "[0-9a-f]", "alnum": "[a-z0-9]", "digits": "[0-9]"}
_TOKEN = re.compile(r"\{(hex|alnum|digits):(\d+)\}|\{unix\}")

# Where each provider documents its progress field; the response hooks render it, the spec doesn't cite it.
PROGRESS_DOCS: dict[str, DocRef] = {
    "evolink": public(
        "https://docs.evolink.ai/en/api-manual/task-management/get-task-detail", "progress integer 0-100"
    ),
    "empiriolabs": public(
        "https://docs.empiriolabs.ai/api-reference/api-reference/jobs/retrieve-job", "progress double 0-1"
    ),
}


def template_pattern(template: str) -> str:
    """The regular expression of an id template (`task-unified-{unix}-{alnum:8}`)."""
    out, last = [], 0
    for token in _TOKEN.finditer(template):
        out.append(re.escape(template[last : token.start()]))
        if token.group(0) == "{unix}":
            out.append("[0-9]{9,11}")
        else:
            out.append(f"{_TOKENS[token.group(1)]}{{{token.group(2)}}}")
        last = token.end()
    out.append(re.escape(template[last:]))
    return "".join(out)


def _family(spec: ProviderSpec, body: dict[str, Any]) -> str | None:
    plan = gen.evaluation(spec, body).plan
    return plan.id_family if plan is not None else None


def family_bodies(spec: ProviderSpec) -> dict[str, dict[str, Any]]:
    """The cheapest valid body of each id family (kling3api: Kling 3.0 `n75…` and O3 `n71…`)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for body in gen.base_bodies(spec):
        family = _family(spec, body)
        if family is not None:
            groups.setdefault(family, []).append(body)
    return {family: _shortest(spec, gen.cheapest(spec, bodies)) for family, bodies in sorted(groups.items())}


def _shortest(spec: ProviderSpec, body: dict[str, Any]) -> dict[str, Any]:
    """`body` at its shortest billed duration, when that is valid (an id costs as little as it can)."""
    variant = gen.variant_of(spec, body)
    param = variant.param("duration") if variant is not None else None
    if param is None or param.minimum is None:
        return body
    short = {**body, "duration": int(param.minimum) if float(param.minimum).is_integer() else param.minimum}
    cost, shorter = gen.price_of(spec, body), gen.price_of(spec, short)
    return short if cost is not None and shorter is not None and shorter < cost else body


def _status_id(session: Session, ex: Exchange) -> Any:
    """The job id a status answer names (where the provider's job object has one)."""
    return shapes.read(ex.response, session.shapes.job_id)


def _check_id_shape(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    for family, body in family_bodies(spec).items():
        template = spec.ids.templates[family]
        pattern = template_pattern(template)
        session.trail.clear()
        created = session.accept(body, rule_id, f"a {family} job")
        job_id = session.job_id(created)
        assert job_id is not None
        if not re.fullmatch(pattern, job_id):
            raise RuleFailure(rule_id, f"a {family} job id shaped {template}", repr(job_id), [created], body)
        polled = session.status(job_id)
        pending = session.status_endpoint.pending_status  # fal's 202 while queued
        if polled.status not in (200, pending) or _status_id(session, polled) != job_id:
            raise RuleFailure(
                rule_id,
                f"the status answer of {job_id} to carry that id",
                polled.summary(),
                [created, polled],
            )


def _progress_values(session: Session, ex: Exchange) -> Any:
    return shapes.read(ex.response, session.shapes.progress)


def _check_progress(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    control = session.need_control(clock=True)
    top = session.shapes.progress_scale
    whole = session.shapes.progress_whole
    unit = f"{'an integer' if whole else 'a number'} 0..{top:g}"
    created = session.accept(flows.cheap_body(spec), rule_id, "a job to watch")
    job_id = session.job_id(created)
    assert job_id is not None
    seen: list[Exchange] = []
    ex = session.status(job_id)
    for _ in range(6 * 3600 // 20):
        seen.append(ex)
        value = _progress_values(session, ex)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= top
        if not ok or (whole and not isinstance(value, int)):
            raise RuleFailure(
                rule_id, f"progress {unit}", f"{value!r} ({session.job_status(ex)})", seen[-2:], None
            )
        if flows.is_terminal(spec, session.job_status(ex)):
            break
        control.advance(20)
        ex = session.status(job_id)
    word = session.job_status(ex)
    if word != spec.lifecycle.word(Phase.SUCCEEDED):
        raise NotExercised(f"the watched job ended {word!r}, not succeeded")
    if _progress_values(session, ex) != top:
        raise RuleFailure(
            rule_id, f"progress {top:g} once {word}", repr(_progress_values(session, ex)), seen[-2:]
        )


def declared_fields(spec: ProviderSpec, action: Action) -> list[str]:
    """`response:<op>:<path>` of every field of an operation's answer that carries a unit or an enum."""
    ops = spec.operations(action)
    shape = ops[0].response if ops else None
    if shape is None:
        return []
    out = []
    for path, field in shape.paths():
        if path and (field.unit is not Unit.NONE or field.enum is not None):
            out.append(f"response:{action}:{'.'.join(map(str, path))}")
    return out


def _conform(spec: ProviderSpec, rule_id: str, action: Action, ex: Exchange) -> None:
    shape = spec.endpoint(action).response
    assert shape is not None
    validator = jsonschema.Draft202012Validator(
        shape_schema(spec, shape), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = sorted(validator.iter_errors(ex.response), key=lambda e: list(e.absolute_path))
    if problems:
        first = problems[0]
        where = ".".join(map(str, first.absolute_path)) or "the body"
        raise RuleFailure(
            rule_id, f"the documented {action} answer", f"{where}: {first.message}", [ex], ex.body
        )
    wrong = unit_problem(shape, ex.response)
    if wrong:
        raise RuleFailure(rule_id, f"the documented {action} answer", wrong, [ex], ex.body)


# A Unix time in seconds stays below this until the year 5138; one in milliseconds passed it in 1973.
_MS_FROM = 10**11


def unit_problem(shape: Shape, body: Any) -> str:
    """A time on the wrong scale (Kling's epoch milliseconds sent as seconds, or the reverse), or ""."""
    for path, field in shape.paths():
        if field.unit not in (Unit.EPOCH_MS, Unit.EPOCH_S):
            continue
        ms = field.unit is Unit.EPOCH_MS
        for value in shapes.read_all(body, path):
            if isinstance(value, int | float) and not isinstance(value, bool) and (value >= _MS_FROM) != ms:
                where = ".".join(map(str, path))
                return f"{where}: {value} is not a Unix time in {'milliseconds' if ms else 'seconds'}"
    return ""


def _check_response_shape(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    session.need_control(clock=True)  # the finished answer is the richest; without a clock, spend nothing
    created = session.accept(_shortest(spec, flows.cheap_body(spec)), rule_id, "a job whose answers are read")
    _conform(spec, rule_id, Action.CREATE, created)
    job_id = session.job_id(created)
    assert job_id is not None
    polled = session.status(job_id)
    _conform(spec, rule_id, Action.STATUS, polled)
    _conform(spec, rule_id, Action.STATUS, flows.finish(session, job_id))


def answer_rules(spec: ProviderSpec) -> Iterator[Rule]:
    pid = spec.id.upper()
    templates = " or ".join(sorted(set(spec.ids.templates.values())))
    yield Rule(
        f"{pid}-ID-SHAPE",
        spec.id,
        f"each job id has its family's documented shape ({templates}) and the status answer carries it",
        spec.ids.doc,
        Layer.PROPERTY,
        partial(_check_id_shape, spec, f"{pid}-ID-SHAPE"),
        covers=frozenset(f"ids:{family}" for family in spec.ids.templates),
    )
    status = spec.endpoint(Action.STATUS)
    yield Rule(
        f"{pid}-RESPONSE-SHAPE",
        spec.id,
        "create and status answers have the documented fields, JSON types, enums and units",
        status.doc,
        Layer.SANDWICH,
        partial(_check_response_shape, spec, f"{pid}-RESPONSE-SHAPE"),
        frozenset({Need.CLOCK}),
        covers=frozenset(declared_fields(spec, Action.CREATE) + declared_fields(spec, Action.STATUS)),
    )
    found = shapes.discover(spec)
    if found.progress is not None:
        kind = "integer" if found.progress_whole else "fraction"
        top = f"{found.progress_scale:g}"
        yield Rule(
            f"{pid}-PROGRESS-SCALE",
            spec.id,
            f"progress is a {kind} from 0 to {top}, and {top} when the job succeeded",
            found.progress_doc or PROGRESS_DOCS.get(spec.id, spec.lifecycle.doc),
            Layer.SANDWICH,
            partial(_check_progress, spec, f"{pid}-PROGRESS-SCALE"),
            frozenset({Need.CLOCK}),
        )
