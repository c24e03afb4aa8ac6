"""Failure evidence: the rule, its source, expected vs actual, the shrunk input, a runnable replay."""

from __future__ import annotations

from dataclasses import replace

from klingsim.providers import by_id
from tests.contracts.mutants import _param, _status_memory, served, wrap
from tests.contracts.support import run_in_process


def test_a_range_failure_shrinks_to_the_boundary_and_replays_with_a_key_placeholder() -> None:
    spec = by_id("kling3api")
    report = run_in_process(served(_param(spec, "duration", maximum=40)), "kling3api", max_examples=25)
    result = report.result("KLING3API-DURATION-RANGE")
    assert result.failure is not None
    assert result.failure.input["duration"] == 16  # the boundary example, max+1, comes first
    text = report.failure_text(result)
    assert "003_1ace3cef13878ba3.txt" in text and "expected: 400 INVALID_DURATION" in text
    assert "${KLINGSIM_API_KEY}" in text and "k3a_live_0123456789abcdef" not in text
    assert "--seed 0" in text


def test_random_examples_shrink_to_the_smallest_refused_value() -> None:
    # Refuses 16 correctly but accepts everything from 17 up: only a random example finds it, shrunk to 17.
    spec = by_id("kling3api")

    def plan(variant: str, body: dict, settings: dict):  # type: ignore[no-untyped-def, type-arg]
        return spec.hooks.plan(variant, {**body, "duration": min(body["duration"], 15)}, settings)

    wide = _param(spec, "duration", maximum=10**9)
    gappy = replace(wide, hooks=replace(wide.hooks, normalize=_refuse_16(spec), plan=plan))
    report = run_in_process(served(gappy), "kling3api", max_examples=25)
    failure = report.result("KLING3API-DURATION-RANGE").failure
    assert failure is not None and failure.input["duration"] == 17, report.text()


def _refuse_16(spec):  # type: ignore[no-untyped-def]
    from klingsim.spec import Violation

    def normalize(body: dict) -> dict:  # type: ignore[type-arg]
        if body.get("duration") == 16:
            raise Violation("INVALID_DURATION", "duration must be at most 15", "duration")
        return spec.hooks.normalize(body) if spec.hooks.normalize else body

    return normalize


def test_a_multi_step_failure_replays_as_a_script_chaining_the_job_id() -> None:
    report = run_in_process(wrap("kling3api", _status_memory(lambda w: "IN_PROGRESS")), "kling3api")
    result = report.result("KLING3API-LIFECYCLE-ORDER")
    assert result.failure is not None
    text = report.failure_text(result)
    assert "#!/usr/bin/env bash" in text and "JOB1=$(" in text and "${JOB1}" in text
