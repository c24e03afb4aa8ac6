"""The run's report: per rule passed / failed / not exercised; per failure the evidence to act on it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree as ET

from klingsim_contracts.rules.base import Rule, RuleFailure
from klingsim_contracts.session import KEY_PLACEHOLDER, Exchange


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_EXERCISED = "not exercised"


@dataclass
class Result:
    rule: Rule
    verdict: Verdict
    reason: str = ""
    failure: RuleFailure | None = None
    seconds: float = 0.0


@dataclass
class Report:
    provider: str
    target: str
    seed: int
    max_examples: int
    results: list[Result] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # run-level: drained account, nothing exercised
    api_key: str = ""
    seconds: float = 0.0

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is verdict)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.verdict is Verdict.FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems

    def failed_ids(self) -> set[str]:
        return {r.rule.id for r in self.failed}

    def result(self, rule_id: str) -> Result:
        return next(r for r in self.results if r.rule.id == rule_id)

    # ------------------------------------------------------------------ text
    def table(self) -> str:
        width = max((len(r.rule.id) for r in self.results), default=10)
        lines = [f"{'rule':<{width}}  {'verdict':<13}  kind        layer     note"]
        for r in self.results:
            note = r.reason if r.verdict is Verdict.NOT_EXERCISED else ""
            lines.append(
                f"{r.rule.id:<{width}}  {r.verdict.value:<13}  {r.rule.kind:<10}  {r.rule.layer:<8}  {note}"
            )
        lines.append(
            f"{self.provider}: {self.count(Verdict.PASSED)} passed, {self.count(Verdict.FAILED)} failed, "
            f"{self.count(Verdict.NOT_EXERCISED)} not exercised in {self.seconds:.1f} s (seed {self.seed})"
        )
        lines += [f"RUN FAILED: {p}" for p in self.problems]
        return "\n".join(lines)

    def failure_text(self, result: Result) -> str:
        f = result.failure
        assert f is not None
        lines = [
            f"FAILED {result.rule.id} ({result.rule.kind}): {result.rule.title}",
            f"  source:   {result.rule.citation}",
            f"  expected: {f.expected}",
            f"  actual:   {f.actual}",
        ]
        if f.input is not None:
            lines.append(f"  minimal input: {json.dumps(f.input, ensure_ascii=False, default=repr)[:600]}")
        lines.append(
            f"  rerun: klingsim check gateway --provider {self.provider} --target {self.target} "
            f"--seed {self.seed}"
        )
        lines.append("  replay:")
        lines += ["    " + line for line in replay(f.exchanges, self.api_key).splitlines()]
        return "\n".join(lines)

    def text(self) -> str:
        return "\n\n".join([*(self.failure_text(r) for r in self.failed), self.table()])

    # ------------------------------------------------------------------ JUnit
    def junit(self) -> str:
        suite = ET.Element(
            "testsuite",
            name=f"klingsim-gateway-{self.provider}",
            tests=str(len(self.results)),
            failures=str(self.count(Verdict.FAILED)),
            skipped=str(self.count(Verdict.NOT_EXERCISED)),
            time=f"{self.seconds:.3f}",
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (("target", self.target), ("seed", str(self.seed)), ("provider", self.provider)):
            ET.SubElement(props, "property", name=name, value=value)
        for r in self.results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"klingsim.{self.provider}.{r.rule.layer}",
                name=r.rule.id,
                time=f"{r.seconds:.3f}",
            )
            cprops = ET.SubElement(case, "properties")
            for name, value in (
                ("rule_id", r.rule.id),
                ("provider", r.rule.provider),
                ("citation", r.rule.citation),
                ("kind", r.rule.kind),
                ("layer", str(r.rule.layer)),
                ("title", r.rule.title),
            ):
                ET.SubElement(cprops, "property", name=name, value=value)
            if r.verdict is Verdict.FAILED and r.failure is not None:
                node = ET.SubElement(case, "failure", message=str(r.failure)[:500])
                node.text = self.failure_text(r)
            elif r.verdict is Verdict.NOT_EXERCISED:
                ET.SubElement(case, "skipped", message=f"not exercised: {r.reason}")
        for problem in self.problems:
            case = ET.SubElement(suite, "testcase", classname=f"klingsim.{self.provider}", name="run")
            ET.SubElement(case, "failure", message=problem)
        return ET.tostring(suite, encoding="unicode")


def replay(exchanges: list[Exchange], key: str) -> str:
    """A runnable command (one request) or a bash script chaining ids between steps (several)."""
    if not exchanges:
        return "(no request recorded)"
    if len(exchanges) == 1:
        return exchanges[0].curl(key)
    lines = ["#!/usr/bin/env bash", "set -euo pipefail", f': "${{{KEY_PLACEHOLDER[1:]}:?set the API key}}"']
    ids: dict[str, str] = {}
    for i, ex in enumerate(exchanges, 1):
        command = ex.curl(key)
        for value, var in ids.items():
            command = command.replace(value, f"${{{var}}}")
        lines.append(f"# step {i}: {ex.step or ex.method} -> {ex.status}")
        lines.append(f"R{i}=$({command})")
        lines.append(f'echo "$R{i}"')
        new_id = _created_id(ex)
        if new_id and new_id not in ids:
            var = f"JOB{len(ids) + 1}"
            ids[new_id] = var
            path = _json_path(ex.response, new_id)
            lines.append(
                f"{var}=$(echo \"$R{i}\" | python3 -c 'import json,sys; print(json.load(sys.stdin){path})')"
            )
    return "\n".join(lines)


def _created_id(ex: Exchange) -> str | None:
    return ex.created_id


def _json_path(doc: Any, value: str, path: str = "") -> str:
    if doc == value:
        return path
    if isinstance(doc, dict):
        for k, v in doc.items():
            found = _json_path(v, value, f"{path}[{json.dumps(k)}]")
            if found:
                return found
    return ""
