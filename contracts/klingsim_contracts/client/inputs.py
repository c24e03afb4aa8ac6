"""What the suite asks a client to submit: valid create requests derived from the provider's spec.

A request (`Ask`) is a create operation, its path relative to the provider's base URL (the model filled in
where the path names it: fal's `/fal-ai/kling-video/o3/standard/text-to-video`) and the JSON body. Providers
with one create operation whose model is a body field (the seed providers) draw their bodies from the kit
(`klingsim_contracts.strategies`); providers with several create paths (Kling's text2video, image2video,
omni-video) or a model in the path (fal) get one base body per operation and model, drawn on the same way
here. Every draw is put through the simulator's own `evaluate()`, so a client is never asked for something
the provider refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from klingsim.core.evaluate import evaluate
from klingsim.spec import (
    Action,
    Endpoint,
    Param,
    ParamType,
    ProviderSpec,
    Variant,
)
from klingsim_contracts import strategies

_PATH_PARAM = re.compile(r"\{([a-zA-Z_]+)(?::path)?\}")


@dataclass(frozen=True, slots=True)
class Ask:
    """One video the client is asked for: where to submit it and what."""

    operation: str  # the create operation's name (`omni-video`, `submit`)
    path: str  # relative to the provider's base URL, path parameters filled in
    body: dict[str, Any]
    path_params: dict[str, str] = field(default_factory=dict)


def creates(spec: ProviderSpec) -> tuple[Endpoint, ...]:
    """The create operations a client is asked to use: every asynchronous one (fal's synchronous `fal.run`
    answers the same models on another host; a client may use it, but is not asked to)."""
    ops = spec.operations(Action.CREATE)
    queued = tuple(op for op in ops if not op.wait)
    return queued if queued and len(queued) < len(ops) else ops


def single(spec: ProviderSpec) -> bool:
    """One create path whose model is a body field: the kit's own request strategies apply."""
    ops = spec.operations(Action.CREATE)
    return len(ops) == 1 and "{" not in ops[0].path


def _filled(op: Endpoint, path_params: dict[str, str]) -> str:
    return _PATH_PARAM.sub(lambda m: path_params.get(m.group(1), m.group(0)), op.path)


def ask_for(spec: ProviderSpec, op: Endpoint, body: dict[str, Any], variant: str = "") -> Ask:
    path_params: dict[str, str] = {}
    if op.body is not None and op.body.discriminator_in == "path" and variant:
        path_params[op.body.discriminator] = variant
    return Ask(op.op_id, _filled(op, path_params), body, path_params)


def accepted(spec: ProviderSpec, ask: Ask | dict[str, Any]) -> bool:
    """Whether the provider accepts the request: field and cross-field rules, constraints, plan and price."""
    if isinstance(ask, dict):
        return evaluate(spec, ask).ok
    return evaluate(spec, ask.body, ask.operation, path_params=ask.path_params).ok


_IMAGE = "https://example.com/klingsim/input.png"
_VIDEO = "https://example.com/klingsim/input.mp4"


def _valid(param: Param) -> Any:
    """A documented valid value; a media field gets a URL (taken on trust, never fetched), whatever other
    forms it also takes (Kling's raw base64 image)."""
    if param.type is ParamType.STRING and param.format:
        if "image" in param.format:
            return _IMAGE
        if "video" in param.format:
            return _VIDEO
    return strategies.valid_value(param)


def _base(spec: ProviderSpec, op: Endpoint, variant: Variant) -> Ask:
    """The smallest valid request of one operation and model: required fields and what the rules need."""
    assert op.body is not None
    body: dict[str, Any] = {}
    if op.body.discriminator_in == "body" and op.body.discriminator:
        body[op.body.discriminator] = variant.name
    for param in variant.params:
        if param.required:
            body[param.name] = _valid(param)
    ask = ask_for(spec, op, strategies.satisfy_rules(variant, body, _valid), variant.name)
    for _ in range(3):  # a constraint may require a field no Param marks required
        violation = evaluate(spec, ask.body, op, path_params=ask.path_params).violation
        needed = variant.param(violation.param) if violation is not None and violation.param else None
        if needed is None or needed.name in ask.body:
            break
        ask.body[needed.name] = _valid(needed)
    return ask


def bases(spec: ProviderSpec) -> list[Ask]:
    """One valid request per create operation and model."""
    found = []
    for op in creates(spec):
        for variant in op.body.variants if op.body is not None else ():
            ask = _base(spec, op, variant)
            if accepted(spec, ask):
                found.append(ask)
    return found


def _variant(spec: ProviderSpec, ask: Ask) -> Variant | None:
    return evaluate(spec, ask.body, ask.operation, path_params=ask.path_params).variant


def _drawn(spec: ProviderSpec) -> st.SearchStrategy[Ask]:
    found = bases(spec)  # once per strategy, not per draw

    @st.composite
    def build(draw: st.DrawFn) -> Ask:
        base = draw(st.sampled_from(found))
        variant = _variant(spec, base)
        assert variant is not None
        body = dict(base.body)
        op = spec.operation(base.operation)
        locked = {r.when.field for r in variant.rules}
        if op.body is not None and op.body.discriminator_in == "body":
            locked.add(op.body.discriminator)
        for param in variant.params:
            if param.name in locked or param.type in (ParamType.OBJECT, ParamType.ARRAY) or param.format:
                continue
            if not (param.enum or param.minimum is not None or param.type is ParamType.BOOLEAN):
                continue
            if draw(st.booleans()):
                body[param.name] = draw(strategies.value_strategy(param))
        return Ask(
            base.operation, base.path, strategies.satisfy_rules(variant, body, _valid), base.path_params
        )

    return build()


def valid_asks(spec: ProviderSpec) -> st.SearchStrategy[Ask]:
    """Requests the provider accepts (Hypothesis shrinks a failing one towards the simplest)."""
    if single(spec):
        op = spec.operations(Action.CREATE)[0]
        return valid_requests(spec).map(lambda body: Ask(op.op_id, op.path, body))
    return _drawn(spec).filter(lambda ask: accepted(spec, ask))


def minimal_ask(spec: ProviderSpec) -> Ask:
    """One small valid request, the cheapest of the spec's bases (for runs without Hypothesis)."""
    if single(spec):
        op = spec.operations(Action.CREATE)[0]
        return Ask(op.op_id, op.path, minimal_request(spec))
    priced = []
    for i, ask in enumerate(bases(spec)):
        price = evaluate(spec, ask.body, ask.operation, path_params=ask.path_params).price
        if price is not None:
            priced.append((price, i, ask))
    return min(priced, key=lambda p: (p[0], p[1]))[2]


def valid_requests(spec: ProviderSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Create bodies the provider accepts (one create operation whose model is a body field)."""
    return strategies.valid_requests(spec).filter(lambda body: accepted(spec, body))


def minimal_request(spec: ProviderSpec) -> dict[str, Any]:
    """One small valid body: the request of `minimal_ask` (the cheapest of the spec's base bodies)."""
    if not single(spec):
        return minimal_ask(spec).body
    bodies = [b for b in strategies.base_bodies(spec) if accepted(spec, b)]
    return strategies.cheapest(spec, bodies)


def drives(spec: ProviderSpec) -> bool:
    """Whether client mode can check this provider: any with a create operation it can ask for (client mode
    asks per create path and model, hands a signed provider's client its secret key and follows separate
    status, result and cancel URLs; gateway mode drives every provider too, one view per create operation)."""
    return bool(spec.operations(Action.CREATE))


def require(spec: ProviderSpec) -> None:
    """A ValueError naming the providers client mode checks, when it can't check `spec`."""
    if not drives(spec):
        from klingsim.providers import ALL

        known = ", ".join(s.id for s in ALL if drives(s))
        raise ValueError(f"client mode does not check {spec.id} (no create operation); it checks: {known}")
