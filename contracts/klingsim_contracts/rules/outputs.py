"""Rules on finished jobs: output URLs that work and then expire; lifecycle rules the state machine judges."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from klingsim.spec import Phase, ProviderSpec
from klingsim_contracts import flows, shapes
from klingsim_contracts.rules.base import Layer, Need, NotExercised, Rule, RuleFailure
from klingsim_contracts.session import Session


def url_lifetime(spec: ProviderSpec) -> int:
    return int(spec.setting_values().get("output_url_lifetime_seconds", spec.urls.lifetime_seconds))


def _check_expiry(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    control = session.need_control(clock=True)
    created = session.accept(flows.cheap_body(spec), rule_id, "a job whose outputs expire")
    job_id = session.job_id(created)
    assert job_id is not None
    done = flows.finish(session, job_id)
    if session.job_status(done) != spec.lifecycle.word(Phase.SUCCEEDED):
        raise RuleFailure(rule_id, "a finished job", done.summary(), list(session.trail), created.body)
    if session.shapes.outputs_in_result:  # fal: the video is on the result URL, not the status
        done = session.result(job_id)
    urls = [u for u in shapes.read_all(done.response, session.shapes.outputs) if isinstance(u, str)]
    if not urls:
        raise RuleFailure(rule_id, "output URLs on the finished job", done.summary(), list(session.trail))
    lifetime = url_lifetime(spec)

    def fetch(expect_ok: bool, when: str) -> None:
        for url in urls:
            got = session.fetch(url, step=f"download {when}")
            ok = got.status == 200
            if ok != expect_ok or (not expect_ok and got.status != spec.urls.expired_status):
                want = "200 with the video" if expect_ok else f"{spec.urls.expired_status} (expired)"
                raise RuleFailure(
                    rule_id,
                    f"{want} {when}",
                    f"{got.status} {got.text[:200]}",
                    list(session.trail),
                    created.body,
                )
            if not expect_ok and spec.urls.expired_body:
                body = got.response if isinstance(got.response, dict) else {}
                wrong = {k: v for k, v in spec.urls.expired_body.items() if body.get(k) != v}
                if wrong:
                    raise RuleFailure(
                        rule_id,
                        f"expired body with {wrong}",
                        got.summary(),
                        list(session.trail),
                        created.body,
                    )

    fetch(True, "right after the job finished")
    control.advance(lifetime - 60)
    fetch(True, f"{lifetime - 60 - 30}..{lifetime - 60} s after it finished")
    control.advance(120)
    fetch(False, f"more than {lifetime} s after it finished")


def output_rules(spec: ProviderSpec) -> Iterator[Rule]:
    pid = spec.id.upper()
    yield Rule(
        f"{pid}-URL-EXPIRY",
        spec.id,
        f"output URLs download until {url_lifetime(spec)} s after the job ends, then answer "
        f"{spec.urls.expired_status}",
        spec.urls.doc,
        Layer.SANDWICH,
        partial(_check_expiry, spec, f"{pid}-URL-EXPIRY"),
        frozenset({Need.CLOCK}),
    )


def lifecycle_rules(spec: ProviderSpec) -> Iterator[Rule]:
    """Judged by the state machine (stateful.py); listed here so the catalogue names them."""
    pid = spec.id.upper()
    words = spec.lifecycle.words
    order = " -> ".join(dict.fromkeys(words[p] for p in (Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED)))
    clock = frozenset({Need.CLOCK})
    yield Rule(
        f"{pid}-LIFECYCLE-ORDER",
        spec.id,
        f"status words only move forward ({order} | {words[Phase.FAILED]})",
        spec.lifecycle.doc,
        Layer.STATEFUL,
        needs=clock,
    )
    yield Rule(
        f"{pid}-TERMINAL-FINAL",
        spec.id,
        f"{' and '.join(sorted(spec.lifecycle.terminal_words))} never change",
        spec.lifecycle.doc,
        Layer.STATEFUL,
        needs=clock,
    )
    if shapes.discover(spec).progress is not None:
        yield Rule(
            f"{pid}-PROGRESS-MONOTONIC",
            spec.id,
            "progress never goes down",
            spec.lifecycle.doc,
            Layer.STATEFUL,
            needs=clock,
        )
    yield Rule(
        f"{pid}-LEDGER",
        spec.id,
        "the balance is the start less every job's price, failed jobs refunded as documented",
        spec.prices.doc,
        Layer.STATEFUL,
        needs=frozenset({Need.CLOCK, Need.ACCOUNTS}),
    )


def _not_exercised(reason: str, session: Session) -> None:
    raise NotExercised(reason)
