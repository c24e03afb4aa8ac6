"""The client suite's report: per scenario, what was asked, what the client did, and what it did wrong."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from klingsim_contracts.client.checks import Finding


@dataclass(slots=True)
class ScenarioResult:
    scenario: str
    description: str
    findings: list[Finding] = field(default_factory=list)
    request: dict[str, Any] | None = None  # the (shrunk) request of the failing run, or the last one
    runs: int = 0
    outcome: str = ""
    transcript: list[str] = field(default_factory=list)
    not_exercised: str = ""  # why the scenario could not be staged for this provider
    create_path: str = ""  # where the request was to be sent, for providers with several create paths

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass(slots=True)
class ClientReport:
    provider: str
    client: str
    results: list[ScenarioResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        exercised = [r for r in self.results if not r.not_exercised]
        return bool(exercised) and all(r.ok for r in exercised)

    @property
    def findings(self) -> list[tuple[str, Finding]]:
        return [(r.scenario, f) for r in self.results for f in r.findings]

    def distinct(self) -> int:
        """Distinct problems: one finding repeated across requests or scenarios counts once."""
        return len({(f.check, f.message) for _, f in self.findings})

    def text(self) -> str:
        lines = [f"klingsim client suite: {self.client} against {self.provider}"]
        shown: dict[tuple[str, str], str] = {}
        for r in self.results:
            if r.not_exercised:
                lines.append(f"  - {r.scenario}: not exercised ({r.not_exercised})")
                continue
            mark = "ok  " if r.ok else "FAIL"
            lines.append(f"  {mark} {r.scenario}: {r.description} [{r.runs} run(s); client {r.outcome}]")
            if r.ok:
                continue
            for f in r.findings:
                earlier = shown.setdefault((f.check, f.message), r.scenario)
                if earlier != r.scenario:
                    times = f" × {f.count}" if f.count > 1 else ""
                    lines.append(f"       {f.check}: the same problem as in {earlier}{times}")
                else:
                    lines.append(f"       {f.text()}")
            if r.request is not None:
                where = f"POST {r.create_path} " if r.create_path else ""
                asked = json.dumps(r.request, ensure_ascii=False)
                lines.append(f"       request asked for: {where}{asked}")
            if r.transcript:
                lines.append("       what it sent:")
                lines.extend(f"         {t}" for t in r.transcript[:40])
                if len(r.transcript) > 40:
                    lines.append(f"         … {len(r.transcript) - 40} more")
        if not any(not r.not_exercised for r in self.results):
            lines.append("  nothing was exercised: the run fails")
        total = sum(f.count for _, f in self.findings)
        lines.append(
            "passed" if self.ok else f"{self.distinct()} distinct problem(s) ({total} occurrence(s))"
        )
        return "\n".join(lines)

    __str__ = text

    def junit(self) -> str:
        cases = []
        for r in self.results:
            name = quoteattr(r.scenario)
            inner = ""
            if r.not_exercised:
                inner = f"<skipped message={quoteattr(r.not_exercised)}/>"
            elif r.findings:
                text = "\n".join(f.text() for f in r.findings)
                checks = ",".join(sorted({f.check for f in r.findings}))
                inner = (
                    f'<properties><property name="checks" value={quoteattr(checks)}/></properties>'
                    f"<failure message={quoteattr(r.findings[0].message)}>{escape(text)}</failure>"
                )
            cases.append(f"<testcase classname={quoteattr(self.provider)} name={name}>{inner}</testcase>")
        failures = sum(1 for r in self.results if r.findings)
        skipped = sum(1 for r in self.results if r.not_exercised)
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<testsuite name={quoteattr("klingsim client: " + self.client)} tests="{len(self.results)}" '
            f'failures="{failures}" skipped="{skipped}">' + "".join(cases) + "</testsuite>\n"
        )


def transcript(entries: list[dict[str, Any]], start: float) -> list[str]:
    """One line per exchange (client time from the run's start); repeats of one request are folded."""
    lines: list[str] = []
    run: list[dict[str, Any]] = []

    def flush() -> None:
        if not run:
            return
        first, last = run[0], run[-1]
        line = f"t=+{first['t'] - start:.1f}s {_target(first)} -> {first['status']}"
        if len(run) > 1:
            line += f"  (x{len(run)}, until t=+{last['t'] - start:.1f}s)"
        lines.append(line)
        run.clear()

    for entry in entries:
        if run and (_target(entry), entry["status"]) != (_target(run[0]), run[0]["status"]):
            flush()
        run.append(entry)
    flush()
    return lines


def _target(entry: dict[str, Any]) -> str:
    target = f"{entry['method']} {entry['path']}"
    if entry.get("query") and entry["action"] != "download":
        target += "?" + "&".join(f"{k}={v}" for k, v in entry["query"].items())
    return target
