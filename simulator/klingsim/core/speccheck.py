"""Mistakes a provider spec can hold that no type checker sees: codes missing from its error catalogue,
operations naming creates that don't exist, path parameters the path lacks, settings that disagree with the
typed fields they write through to. `problems(spec)` lists them; a test runs it on every provider."""

from __future__ import annotations

import re
from collections.abc import Iterator

from klingsim.core.evaluate import constraints
from klingsim.spec import Action, ErrorRole, Param, ProviderSpec

_ENGINE_ROLES = tuple(r for r in ErrorRole if r not in (ErrorRole.ALREADY_FINISHED, ErrorRole.TOO_MANY_JOBS))
_PATH_PARAM = re.compile(r"\{(\w+)(?::path)?\}")


def _param_codes(params: tuple[Param, ...]) -> Iterator[str]:
    for p in params:
        if p.error:
            yield p.error
        if p.items is not None:
            yield from _param_codes((p.items,))
        yield from _param_codes(p.properties)


def _codes(spec: ProviderSpec) -> Iterator[tuple[str, str]]:
    """(where, code) of every error code the spec refers to."""
    for role, code in spec.roles.items():
        yield f"roles[{role}]", code
    for failure, code in spec.auth.errors.items():
        yield f"auth.errors[{failure}]", code
    for op in spec.endpoints:
        for code in op.errors:
            yield f"{op.op_id}.errors", code
        for role, code in op.roles.items():
            yield f"{op.op_id}.roles[{role}]", code
        for code in _param_codes(op.query):
            yield f"{op.op_id}.query", code
        if op.body is not None:
            if op.body.unknown_variant_error:
                yield f"{op.op_id}.unknown_variant_error", op.body.unknown_variant_error
            for variant in op.body.variants:
                for code in _param_codes(variant.params):
                    yield f"{op.op_id}.{variant.name}", code
    for info in constraints(spec):
        yield f"constraint {info.id}", info.error
    for where, code in (
        ("callbacks.error", spec.callbacks.error if spec.callbacks else ""),
        ("ids.malformed_error", spec.ids.malformed_error),
        ("concurrency.error", spec.concurrency.error if spec.concurrency else ""),
    ):
        if code:
            yield where, code


def problems(spec: ProviderSpec) -> list[str]:
    found: list[str] = []
    known = {e.code for e in spec.errors}
    found += [
        f"{where}: no error {code!r} in the catalogue" for where, code in _codes(spec) if code not in known
    ]
    needed: list[ErrorRole] = list(_ENGINE_ROLES)
    if spec.operations(Action.CANCEL):
        needed.append(ErrorRole.ALREADY_FINISHED)
    if spec.concurrency is not None and not spec.concurrency.error:
        needed.append(ErrorRole.TOO_MANY_JOBS)
    found += [f"roles: no error for {role}" for role in needed if role not in spec.roles]
    names = [op.op_id for op in spec.endpoints]
    found += [f"operation name {n!r} is used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    creates = {op.op_id for op in spec.operations(Action.CREATE)}
    if not creates:
        found.append("no create operation")
    for op in spec.endpoints:
        in_path = set(_PATH_PARAM.findall(op.path))
        found += [f"{op.op_id}: jobs_of names no create {n!r}" for n in op.jobs_of if n not in creates]
        if op.action in (Action.STATUS, Action.RESULT, Action.CANCEL):
            if not op.id_param:
                found.append(f"{op.op_id}: no id_param")
            elif op.id_in == "path" and op.id_param not in in_path:
                found.append(f"{op.op_id}: id_param {op.id_param!r} is not in the path {op.path}")
        body = op.body
        if body is not None and body.discriminator_in == "path" and body.discriminator not in in_path:
            found.append(
                f"{op.op_id}: the variant's path parameter {body.discriminator!r} is not in {op.path}"
            )
    # Ids are unique per variant of one operation (Kling's creates share model names across operations).
    ids = [(info.operation, info.variant, info.id) for info in constraints(spec)]
    found += [
        f"constraint id {i!r} is used twice in {v!r} of {o!r}"
        for o, v, i in sorted({x for x in ids if ids.count(x) > 1})
    ]
    if spec.with_settings(spec.setting_values()) != spec:
        found.append("a declared setting disagrees with the typed field it writes through to")
    return found
