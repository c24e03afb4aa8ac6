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
| CLIENT-SENDS-REQUESTED | submit the body asked for, to the operation and model asked for |
| CLIENT-SIGNS-REQUESTS | sign every request with the key pair it was given (Kling's HS256 JWT) |
| CLIENT-FOLLOWS-URLS | poll, fetch and cancel at the URLs the create answered (fal's `status_url`...) |
| CLIENT-UNIQUE-IDS | never reuse an id the provider keeps unique (Kling's `external_task_id`) |
| CLIENT-CANCELS-ABANDONED | cancel a job it gives up on, where the provider can cancel (fal) |
| CLIENT-READS-ERROR-CODE | not retry a create refused for an empty account (Kling's 429/1102) |

CLIENT-SENDS-REQUESTED lets a client add documented defaults at their value; where a provider has several
create paths, also its callback URL and the ids it keeps unique (they change neither video nor price).

Findings of one check that repeat (one per request of a careless client) are folded into one, with how
many times it happened and the first and last time (client clock, from the scenario's start). Checks that
judge a provider's documented behaviour cite the page (`cite`), from the spec.
"""

from __future__ import annotations

from typing import Any

from klingsim.core.jobs import Job
from klingsim.core.ledger import EntryKind
from klingsim.core.routing import Router
from klingsim.spec import Action, ErrorRole, Phase, ProviderSpec
from klingsim_contracts import strategies as gen
from klingsim_contracts.client import protocol
from klingsim_contracts.client.evidence import Evidence, Finding, Outcome, cite
from klingsim_contracts.client.evidence import api as _api
from klingsim_contracts.client.evidence import error_text as _error_text
from klingsim_contracts.client.evidence import short as _short
from klingsim_contracts.client.inputs import single

__all__ = ["CHECKS", "Evidence", "Finding", "Outcome", "cite", "fold", "judge"]

# Answers that are never the request's fault: rate limits, server errors, and the empty account the
# insufficient-credits scenario stages (its status is looked up per provider).
_NOT_THE_CLIENTS_FAULT = frozenset({429})


def requests_accepted(ev: Evidence) -> list[Finding]:
    insufficient = ev.spec.role(ErrorRole.INSUFFICIENT_FUNDS).status
    reused = {id(entry) for entry, _, _ in protocol.reused_ids(ev)} | {id(e) for e in protocol.rebuilt(ev)}
    found: list[Finding] = []
    for entry in _api(ev.entries, ev.spec.id):
        status = entry["status"]
        if status < 400 or status >= 500 or status in _NOT_THE_CLIENTS_FAULT:
            continue
        if status == insufficient and ev.scenario.balance is not None:
            continue
        if (status == 401 and ev.spec.auth.signed is not None) or id(entry) in reused:
            continue  # judged by CLIENT-SIGNS-REQUESTS, -UNIQUE-IDS or -FOLLOWS-URLS, in their words
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
    multi = ev.ask is not None and not single(ev.spec)
    variant = _asked_variant(ev) if multi else gen.variant_of(ev.spec, ev.request)
    # Where a create has several paths, fields a client may add whatever it was asked: its callback URL and
    # the ids the provider keeps unique per account (they change neither the video nor the price).
    free = _free_fields(ev.spec) if multi else frozenset()
    found: list[Finding] = []
    for entry in _api(ev.entries, ev.spec.id):
        body = entry.get("body")
        if entry["action"] != "create" or not isinstance(body, dict):
            continue
        problems = _elsewhere(ev, entry) if multi else []
        for name in sorted(set(ev.request) | set(body)):
            asked, sent = ev.request.get(name, _MISSING), body.get(name, _MISSING)
            if asked is _MISSING:
                param = variant.param(name) if variant is not None else None
                if param is not None and param.has_default and sent == param.default:
                    continue
                if name in free:
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
                    # Several create paths: the asked one's page says which models and fields it takes.
                    cite=cite(ev.spec.operation(ev.ask.operation).doc) if multi and ev.ask else "",
                )
            )
    return found


_MISSING: Any = object()


def _asked_variant(ev: Evidence) -> Any:
    from klingsim.core.evaluate import evaluate

    assert ev.ask is not None
    return evaluate(ev.spec, ev.ask.body, ev.ask.operation, path_params=ev.ask.path_params).variant


def _free_fields(spec: ProviderSpec) -> frozenset[str]:
    fields = {name for op in spec.operations(Action.CREATE) for name in op.unique_fields}
    if spec.callbacks is not None:
        fields.add(spec.callbacks.field)
    return frozenset(fields)


def _elsewhere(ev: Evidence, entry: dict[str, Any]) -> list[str]:
    """The create went to another operation or model than asked (an operation sharing the asked one's
    models and body, such as fal's synchronous run of the same model, is the same request)."""
    assert ev.ask is not None
    asked = ev.spec.operation(ev.ask.operation)
    match = Router(ev.spec).match(entry["method"], entry["path"])
    sent = match.endpoint if match is not None else None
    same_op = sent is not None and (sent is asked or (sent.body is not None and sent.body is asked.body))
    if same_op and match is not None and match.path_params == ev.ask.path_params:
        return []
    return [f"sent it to {entry['method']} {entry['path']} instead of POST {ev.ask.path}"]


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


def _job(ev: Evidence, ident: str) -> Job | None:
    """The job an id names: its own id, or a client-chosen id a status operation also takes (Kling's
    `external_task_id`)."""
    job = ev.sim.engine.get(ev.spec.id, ident)
    if job is not None:
        return job
    fields = {f for op in ev.spec.operations(Action.STATUS) for f in op.id_fields}
    if not fields:
        return None
    return next(
        (
            j
            for j in ev.sim.engine.jobs()
            if j.provider == ev.spec.id and any(j.request.get(f) == ident for f in fields)
        ),
        None,
    )


def _phase_at(ev: Evidence, job_id: str, at: float) -> Phase | None:
    job = _job(ev, job_id)
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
        if not job_id or not _is_poll(ev.spec, entry):
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


def _is_poll(spec: ProviderSpec, entry: dict[str, Any]) -> bool:
    """A status request, or a result request answered with the pending status (fal's 202 on the result
    URL: the client polls it)."""
    if entry["action"] == "status":
        return True
    if entry["action"] != "result":
        return False
    pending = {op.pending_status for op in spec.operations(Action.RESULT) if op.pending_status}
    return entry["status"] in pending


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
    protocol.signs_requests,
    protocol.follows_urls,
    protocol.unique_ids,
    protocol.cancels_abandoned,
    protocol.reads_error_code,
)


def judge(ev: Evidence) -> list[Finding]:
    return fold([finding for check in CHECKS for finding in check(ev)])
