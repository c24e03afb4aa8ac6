"""The client checks: each reads what the client sent (the recorded exchanges), what it claimed, and the
simulator's jobs and ledger, and says in plain words what the client did wrong.

| id | the client must |
|---|---|
| CLIENT-REQUEST-ACCEPTED | send only requests the provider accepts (else: the error, naming the rule) |
| CLIENT-KNOWN-FIELDS | send only fields the provider documents (a typo is silently ignored by the provider) |
| CLIENT-STOPS-AT-TERMINAL | stop polling a job once it was shown a terminal status |
| CLIENT-POLL-RATE | never poll one job faster than the configured interval (client time) |
| CLIENT-RETRY-AFTER | wait at least Retry-After before its next request after an answer carrying one |
| CLIENT-NO-DOUBLE-SUBMIT | create one job per requested video, even after an ambiguous failure |
| CLIENT-SURFACES-FAILURE | report failure when it has no video, never success |
| CLIENT-COMPLETES | deliver the video when the provider did |
| CLIENT-SENDS-REQUESTED | submit the body asked for (adding only documented defaults, at their value) |

Findings of one check that repeat (one per request of a careless client) are folded into one, with how
many times it happened and the first and last time (client clock, from the scenario's start).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from klingsim.core.ledger import EntryKind
from klingsim.core.simulator import Simulator
from klingsim.spec import ErrorRole, Phase, ProviderSpec
from klingsim_contracts import strategies as gen
from klingsim_contracts.client.scenarios import Scenario

# Answers that are never the request's fault: rate limits, server errors, and the empty account the
# insufficient-credits scenario stages (its status is looked up per provider).
_NOT_THE_CLIENTS_FAULT = frozenset({429})


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    message: str
    count: int = 1
    first: float | None = None  # client seconds from the scenario's start
    last: float | None = None

    def text(self) -> str:
        if self.count <= 1:
            return f"{self.check}: {self.message}"
        when = ""
        if self.first is not None and self.last is not None:
            when = f" (first at t=+{self.first:.1f}s, last at t=+{self.last:.1f}s)"
        return f"{self.check}: {self.message} × {self.count}{when}"


@dataclass(slots=True)
class Outcome:
    """What the client reported: success (returned / exit 0) or failure (raised / non-zero exit)."""

    claimed_success: bool
    detail: str = ""


@dataclass(slots=True)
class Evidence:
    spec: ProviderSpec
    sim: Simulator
    scenario: Scenario
    api_key: str
    entries: list[dict[str, Any]]
    outcome: Outcome
    min_poll_interval: float
    request: dict[str, Any] | None = None  # the body the client was asked to submit
    start: float = 0.0  # client time at the scenario's start


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_text(entry: dict[str, Any]) -> str:
    return f"{entry['status']} {_short(entry.get('response'))}"


def _api(entries: list[dict[str, Any]], provider: str) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("provider") == provider and e["action"] != "download"]


def requests_accepted(ev: Evidence) -> list[Finding]:
    insufficient = ev.spec.role(ErrorRole.INSUFFICIENT_FUNDS).status
    found: list[Finding] = []
    for entry in _api(ev.entries, ev.spec.id):
        status = entry["status"]
        if status < 400 or status >= 500 or status in _NOT_THE_CLIENTS_FAULT:
            continue
        if status == insufficient and ev.scenario.balance is not None:
            continue
        sent = f"{entry['method']} {entry['path']}"
        if entry.get("query"):
            sent += "?" + "&".join(f"{k}={v}" for k, v in entry["query"].items())
        if entry.get("body") is not None:
            sent += f" with {_short(entry['body'], 200)}"
        at = entry.get("t", ev.start) - ev.start
        found.append(
            Finding(
                "CLIENT-REQUEST-ACCEPTED",
                f"sent {sent}; {ev.spec.id} refuses it: {_error_text(entry)}",
                first=at,
                last=at,
            )
        )
    return found


def known_fields(ev: Evidence) -> list[Finding]:
    """The simulator's near-miss hint (`X-Klingsim-Hint`) on an answer names each unknown field sent."""
    found: list[Finding] = []
    for entry in _api(ev.entries, ev.spec.id):
        hint = (entry.get("response_headers") or {}).get("x-klingsim-hint", "")
        if "unknown field" in hint:
            sent = f"{entry['method']} {entry['path']}"
            found.append(
                Finding("CLIENT-KNOWN-FIELDS", f"sent {sent} with fields {ev.spec.id} ignores: {hint}")
            )
    return found


def sends_requested(ev: Evidence) -> list[Finding]:
    """Each create carries the requested body: nothing changed or dropped, and nothing added but documented
    defaults sent with their default value (a client that quietly changes a field changes the price)."""
    if ev.request is None:
        return []
    variant = gen.variant_of(ev.spec, ev.request)
    found: list[Finding] = []
    for entry in _api(ev.entries, ev.spec.id):
        body = entry.get("body")
        if entry["action"] != "create" or not isinstance(body, dict):
            continue
        problems = []
        for name in sorted(set(ev.request) | set(body)):
            asked, sent = ev.request.get(name, _MISSING), body.get(name, _MISSING)
            if asked is _MISSING:
                param = variant.param(name) if variant is not None else None
                if param is not None and param.has_default and sent == param.default:
                    continue
                default = (
                    f" (documented default: {_short(param.default, 60)})"
                    if param is not None and param.has_default
                    else " (not requested)"
                )
                problems.append(f"added {name}={_short(sent, 80)}{default}")
            elif sent is _MISSING:
                problems.append(f"dropped {name} (asked for {_short(asked, 80)})")
            elif sent != asked or type(sent) is not type(asked):
                problems.append(f"changed {name} from {_short(asked, 80)} to {_short(sent, 80)}")
        if problems:
            at = entry.get("t", ev.start) - ev.start
            found.append(
                Finding(
                    "CLIENT-SENDS-REQUESTED",
                    f"submitted something else than it was asked to: {'; '.join(problems)}",
                    first=at,
                    last=at,
                )
            )
    return found


_MISSING: Any = object()


def fold(findings: list[Finding]) -> list[Finding]:
    """One finding per distinct (check, message), counting repeats, with the first and last occurrence."""
    folded: dict[tuple[str, str], Finding] = {}
    for f in findings:
        key = (f.check, f.message)
        seen = folded.get(key)
        if seen is None:
            folded[key] = f
            continue
        firsts = [t for t in (seen.first, f.first) if t is not None]
        lasts = [t for t in (seen.last, f.last) if t is not None]
        folded[key] = Finding(
            f.check,
            f.message,
            seen.count + f.count,
            min(firsts) if firsts else None,
            max(lasts) if lasts else None,
        )
    return list(folded.values())


def _phase_at(ev: Evidence, job_id: str, at: float) -> Phase | None:
    job = ev.sim.engine.get(ev.spec.id, job_id)
    if job is None:
        return None
    phase: Phase | None = None
    for when, step in job.history:
        if when <= at:
            phase = step
    return phase


def stops_at_terminal(ev: Evidence) -> list[Finding]:
    found: list[Finding] = []
    seen_terminal: dict[str, str] = {}
    late: dict[str, int] = {}
    for entry in _api(ev.entries, ev.spec.id):
        job_id = entry.get("job_id")
        if entry["action"] != "status" or not job_id:
            continue
        if job_id in seen_terminal:
            late[job_id] = late.get(job_id, 0) + 1
            continue
        phase = _phase_at(ev, job_id, entry["at"])
        if entry["status"] < 300 and phase in (Phase.SUCCEEDED, Phase.FAILED):
            seen_terminal[job_id] = ev.spec.lifecycle.word(phase)
    for job_id, count in late.items():
        found.append(
            Finding(
                "CLIENT-STOPS-AT-TERMINAL",
                f"polled job {job_id} {count} more time(s) after it was shown {seen_terminal[job_id]!r}, a "
                "terminal status that never changes",
            )
        )
    return found


def poll_rate(ev: Evidence) -> list[Finding]:
    found: list[Finding] = []
    last: dict[str, float] = {}
    fast: dict[str, list[float]] = {}
    for entry in _api(ev.entries, ev.spec.id):
        job_id = entry.get("job_id")
        if entry["action"] != "status" or not job_id:
            continue
        if job_id in last and entry["t"] - last[job_id] < ev.min_poll_interval - 1e-9:
            fast.setdefault(job_id, []).append(entry["t"] - last[job_id])
        last[job_id] = entry["t"]
    for job_id, gaps in fast.items():
        found.append(
            Finding(
                "CLIENT-POLL-RATE",
                f"polled job {job_id} {len(gaps)} time(s) less than {ev.min_poll_interval:g} s after the "
                f"previous poll (shortest gap {min(gaps):.3g} s): it hammers the provider",
            )
        )
    return found


def honours_retry_after(ev: Evidence) -> list[Finding]:
    found: list[Finding] = []
    api = _api(ev.entries, ev.spec.id)
    for i, entry in enumerate(api[:-1]):
        raw = entry.get("response_headers", {}).get("retry-after", "")
        if not raw.strip().isdigit():
            continue
        wait = int(raw)
        nxt = api[i + 1]
        gap = nxt["t"] - entry["t"]
        if gap < wait - 1e-9:
            found.append(
                Finding(
                    "CLIENT-RETRY-AFTER",
                    f"got {entry['status']} with Retry-After: {wait} on {entry['method']} {entry['path']}, "
                    f"then sent {nxt['method']} {nxt['path']} after {gap:.3g} s",
                )
            )
    return found


def single_submit(ev: Evidence) -> list[Finding]:
    account = ev.sim.keys.account_of(ev.spec.id, ev.api_key)
    if account is None:
        return []
    debits = [
        e
        for e in ev.sim.ledger.entries(ev.spec.id, account)
        if e.kind in (EntryKind.HOLD, EntryKind.CHARGE) and e.job_id
    ]
    if len(debits) <= 1:
        return []
    charged = ", ".join(f"{e.job_id} ({e.amount} {ev.spec.prices.unit})" for e in debits)
    return [
        Finding(
            "CLIENT-NO-DOUBLE-SUBMIT",
            f"created {len(debits)} jobs for one requested video, each charged: {charged}. After an "
            "ambiguous failure the job may exist already; look it up (or fail) instead of submitting again",
        )
    ]


def _delivered(ev: Evidence) -> tuple[bool, str]:
    """Whether a job succeeded and the client downloaded its output; else why not."""
    succeeded = [j for j in ev.sim.engine.jobs() if j.provider == ev.spec.id and j.phase is Phase.SUCCEEDED]
    if not succeeded:
        jobs = [j for j in ev.sim.engine.jobs() if j.provider == ev.spec.id]
        if not jobs:
            return False, "no job was created"
        words = ", ".join(f"{j.id} {ev.spec.lifecycle.word(j.phase)}" for j in jobs)
        return False, f"no job succeeded ({words})"
    ids = {j.id for j in succeeded}
    downloads = [e for e in ev.entries if e["action"] == "download" and e.get("job_id") in ids]
    if any(e["status"] in (200, 206) for e in downloads):
        return True, ""
    if downloads:
        return False, f"the output download was answered {_error_text(downloads[-1])}"
    return False, "the output was never downloaded"


def surfaces_failure(ev: Evidence) -> list[Finding]:
    delivered, why = _delivered(ev)
    claimed = ev.outcome.claimed_success
    if claimed and not delivered:
        return [
            Finding(
                "CLIENT-SURFACES-FAILURE",
                f"reported success, but {why}; it must report the failure to its caller",
            )
        ]
    if not claimed and delivered and ev.scenario.expect == "success":
        return [
            Finding(
                "CLIENT-COMPLETES",
                f"reported failure ({ev.outcome.detail or 'no detail'}) although the job succeeded and the "
                "video was downloaded",
            )
        ]
    if not claimed and ev.scenario.expect == "success":
        return [
            Finding(
                "CLIENT-COMPLETES",
                f"gave up ({ev.outcome.detail or 'no detail'}) in a scenario a client should get "
                f"through: {why}",
            )
        ]
    return []


CHECKS = (
    requests_accepted,
    known_fields,
    stops_at_terminal,
    poll_rate,
    honours_retry_after,
    single_submit,
    surfaces_failure,
    sends_requested,
)


def judge(ev: Evidence) -> list[Finding]:
    return fold([finding for check in CHECKS for finding in check(ev)])
