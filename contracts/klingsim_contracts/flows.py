"""Multi-step moves shared by sandwich rules and the state machine: finish a job, make one fail."""

from __future__ import annotations

from typing import Any

from klingsim.spec import Phase, ProviderSpec
from klingsim_contracts import strategies as gen
from klingsim_contracts.rules.base import NotExercised
from klingsim_contracts.sandwich import Unavailable
from klingsim_contracts.session import Exchange, Session

FAIL_CODE = "klingsim_contract_failure"


def cheap_body(spec: ProviderSpec) -> dict[str, Any]:
    return gen.cheapest(spec, gen.base_bodies(spec))


def failing_body(spec: ProviderSpec) -> dict[str, Any] | None:
    """A valid body whose job fails after it runs (klingsim's prompt marker), if it has a prompt."""
    body = cheap_body(spec)
    variant = gen.variant_of(spec, body)
    param = variant.param("prompt") if variant is not None else None
    if param is None:
        return None
    marker = f" [klingsim:fail={FAIL_CODE}]"
    prompt = str(body.get("prompt") or gen.valid_value(param))
    if param.max_length is not None:
        prompt = prompt[: max(param.max_length - len(marker), 1)]
    return {**body, "prompt": prompt + marker}


def is_terminal(spec: ProviderSpec, word: str | None) -> bool:
    return word is not None and word in spec.lifecycle.terminal_words


def finish(session: Session, job_id: str, *, step: float = 30, limit: float = 6 * 3600) -> Exchange:
    """Advance the upstream clock in steps until the job is terminal; the last poll's exchange."""
    control = session.need_control(clock=True)
    ex = session.status(job_id)
    moved = 0.0
    while not is_terminal(session.spec, session.job_status(ex)) and moved < limit:
        control.advance(step)
        moved += step
        ex = session.status(job_id)
    return ex


def make_fail(session: Session, job_id: str) -> bool:
    """Force the upstream job to fail now (control plane); False when the upstream can't."""
    if session.control is None:
        return False
    try:
        session.control.force_outcome(
            session.spec.id, job_id, session.spec.lifecycle.word(Phase.FAILED), FAIL_CODE
        )
    except Unavailable:
        try:
            session.control.force_outcome(session.spec.id, job_id, "failed", FAIL_CODE)
        except Unavailable:
            return False
    return True


def create_failing(session: Session, rule_id: str) -> Exchange:
    """A job that will fail: by the prompt marker, else by a forced outcome."""
    body = failing_body(session.spec)
    if body is not None:
        return session.accept(body, rule_id, "a job that fails upstream")
    ex = session.accept(cheap_body(session.spec), rule_id, "a job to fail upstream")
    job_id = session.job_id(ex)
    if job_id is None or not make_fail(session, job_id):
        raise NotExercised("cannot make a job fail: no prompt field and no upstream outcome control")
    return ex
