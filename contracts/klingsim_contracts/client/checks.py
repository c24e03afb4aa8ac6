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

import contextlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from klingsim.core import auth
from klingsim.core.jobs import Job
from klingsim.core.ledger import EntryKind
from klingsim.core.routing import Router
from klingsim.core.simulator import Simulator
from klingsim.spec import Action, DocRef, ErrorRole, Phase, ProviderSpec
from klingsim_contracts import strategies as gen
from klingsim_contracts.client.inputs import Ask, single
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
    cite: str = ""  # the provider page the judged behaviour is documented on

    def text(self) -> str:
        see = f" [{self.cite}]" if self.cite else ""
        if self.count <= 1:
            return f"{self.check}: {self.message}{see}"
        when = ""
        if self.first is not None and self.last is not None:
            when = f" (first at t=+{self.first:.1f}s, last at t=+{self.last:.1f}s)"
        return f"{self.check}: {self.message} × {self.count}{when}{see}"


def cite(doc: DocRef) -> str:
    """A page and its quote, or the reason a behaviour is inferred."""
    if doc.source == "inferred":
        return f"inferred: {doc.reason}"
    return f"{doc.source}: {doc.quote}" if doc.quote else doc.source


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
    ask: Ask | None = None  # where it was asked to submit it (several create paths, a model in the path)


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_text(entry: dict[str, Any]) -> str:
    return f"{entry['status']} {_short(entry.get('response'))}"


def _api(entries: list[dict[str, Any]], provider: str) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("provider") == provider and e["action"] != "download"]


def requests_accepted(ev: Evidence) -> list[Finding]:
    insufficient = ev.spec.role(ErrorRole.INSUFFICIENT_FUNDS).status
    reused = {id(entry) for entry, _, _ in _reused_ids(ev)} | {id(entry) for entry in _rebuilt(ev)}
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


def signs_requests(ev: Evidence) -> list[Finding]:
    """A provider whose requests are signed (Kling's JWT): every request carries a token for the key the
    client was given, signed with its secret and valid when sent."""
    scheme = ev.spec.auth.signed
    if scheme is None:
        return []
    found: list[Finding] = []
    for entry in _api(ev.entries, ev.spec.id):
        header = (entry.get("headers") or {}).get(scheme.header, "")
        token = header[len(scheme.prefix) + 1 :] if header.startswith(scheme.prefix + " ") else header
        key = None
        with contextlib.suppress(auth.AuthError):
            key = auth.parse_jwt(token, scheme).claims.get(scheme.key_claim)
        at = entry.get("t", ev.start) - ev.start
        if entry["status"] == 401:
            problem = f"{entry['method']} {entry['path']} was refused: {_error_text(entry)}"
        elif key is not None and key != ev.api_key:
            problem = (
                f"{entry['method']} {entry['path']} carried a token for {key!r}, not the key it was given"
            )
        else:
            continue
        found.append(
            Finding(
                "CLIENT-SIGNS-REQUESTS",
                f"{problem}; sign each request: {scheme.hint}, HS256 with the secret key, "
                f"{scheme.key_claim} = the access key, exp and nbf around now",
                first=at,
                last=at,
                cite=cite(ev.spec.auth.doc),
            )
        )
    return found


def _handed_out(ev: Evidence) -> set[str]:
    """Paths of the absolute URLs the client's creates were answered with (fal's status_url, response_url,
    cancel_url), relative to the provider's mount."""
    paths: set[str] = set()
    for entry in _api(ev.entries, ev.spec.id):
        answer = entry.get("response")
        if entry["action"] != "create" or entry["status"] >= 300 or not isinstance(answer, dict):
            continue
        for value in answer.values():
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                paths.add(_local(ev.spec, urlsplit(value).path))
    return paths


def _local(spec: ProviderSpec, path: str) -> str:
    mount = f"/{spec.id}/"
    return path[len(mount) - 1 :] if path.startswith(mount) else path


def _rebuilt(ev: Evidence) -> list[dict[str, Any]]:
    """Requests naming a job at a path the create's answer did not hand out (when it handed out URLs)."""
    handed = _handed_out(ev)
    if not handed:
        return []
    ids = [j.id for j in ev.sim.engine.jobs() if j.provider == ev.spec.id]
    return [
        entry
        for entry in _api(ev.entries, ev.spec.id)
        if entry["action"] != "create"
        and entry["path"] not in handed
        and any(i in entry["path"] for i in ids)
    ]


def follows_urls(ev: Evidence) -> list[Finding]:
    rebuilt = _rebuilt(ev)
    if not rebuilt:
        return []
    handed = _handed_out(ev)
    status = ev.spec.operations(Action.STATUS)
    found: list[Finding] = []
    for entry in rebuilt:
        path = entry["path"]
        at = entry.get("t", ev.start) - ev.start
        tail = path.rstrip("/").rpartition("/")[2]
        given = sorted(p for p in handed if p.rpartition("/")[2] == tail) or sorted(handed)
        found.append(
            Finding(
                "CLIENT-FOLLOWS-URLS",
                f"sent {entry['method']} {path}, a URL it built itself (answered {entry['status']}); use the "
                f"URL the create answered: {', '.join(given)}",
                first=at,
                last=at,
                cite=cite(status[0].doc) if status else "",
            )
        )
    return found


def _reused_ids(ev: Evidence) -> list[tuple[dict[str, Any], str, str]]:
    """(entry, field, value) of each create that sent a unique field's value an earlier create sent."""
    unique = {n for op in ev.spec.operations(Action.CREATE) for n in op.unique_fields}
    if not unique:
        return []
    seen: set[tuple[str, str]] = set()
    reused: list[tuple[dict[str, Any], str, str]] = []
    for entry in _api(ev.entries, ev.spec.id):
        body = entry.get("body")
        if entry["action"] != "create" or not isinstance(body, dict):
            continue
        for name in sorted(unique):
            value = body.get(name)
            if isinstance(value, str) and value:
                if (name, value) in seen:
                    reused.append((entry, name, value))
                seen.add((name, value))
    return reused


def unique_ids(ev: Evidence) -> list[Finding]:
    found: list[Finding] = []
    lookups = [op for op in ev.spec.operations(Action.STATUS) if op.id_fields]
    for entry, name, value in _reused_ids(ev):
        at = entry.get("t", ev.start) - ev.start
        lookup = next((op for op in lookups if op.path.startswith(entry["path"] + "/")), None)
        where = lookup.path.replace("{" + lookup.id_param + "}", value) if lookup else ""
        instead = f"; look the job up by it (GET {where})" if where else ""
        found.append(
            Finding(
                "CLIENT-UNIQUE-IDS",
                f"sent {name}={value!r} again on {entry['method']} {entry['path']} ({ev.spec.id} keeps it "
                f"unique per account, answered {_error_text(entry)}){instead}",
                first=at,
                last=at,
                cite=_field_cite(ev, entry, name),
            )
        )
    return found


def _field_cite(ev: Evidence, entry: dict[str, Any], name: str) -> str:
    """The citation of a create field, as the operation the entry reached declares it."""
    match = Router(ev.spec).match(entry["method"], entry["path"])
    body = match.endpoint.body if match is not None and match.endpoint is not None else None
    param = next((v.param(name) for v in body.variants if v.param(name)), None) if body else None
    return cite(param.doc) if param is not None else ""


def cancels_abandoned(ev: Evidence) -> list[Finding]:
    """Where the provider can cancel, a client that gives up on a job cancels it (else it runs on and is
    billed when it completes)."""
    cancel = ev.spec.operations(Action.CANCEL)
    if not cancel or ev.outcome.claimed_success:
        return []
    api = _api(ev.entries, ev.spec.id)
    cancelled = {e.get("job_id") for e in api if e["action"] == "cancel"}
    # Only jobs the client was told of: a create whose answer was lost left it nothing to cancel.
    told = " ".join(json.dumps(e.get("response"), default=str) for e in api if e["status"] < 300)
    found: list[Finding] = []
    for job in ev.sim.engine.jobs():
        if job.provider != ev.spec.id or job.terminal or job.id in cancelled or job.id not in told:
            continue
        word = ev.spec.lifecycle.word(job.phase)
        found.append(
            Finding(
                "CLIENT-CANCELS-ABANDONED",
                f"gave up while {job.id} was still {word!r} and never cancelled it: it runs on and is billed "
                f"when it completes; cancel it ({cancel[0].method} {cancel[0].path})",
                cite=cite(cancel[0].doc),
            )
        )
    return found


def _unfunded(ev: Evidence, entry: dict[str, Any]) -> bool:
    """The answer is the provider's empty-account error, told apart by its code where other errors share
    its HTTP status."""
    error = ev.spec.role(ErrorRole.INSUFFICIENT_FUNDS)
    if entry["status"] != error.status:
        return False
    shared = any(e.status == error.status and e.code != error.code for e in ev.spec.errors)
    answer = entry.get("response")
    values = answer.values() if isinstance(answer, dict) else ()
    return not shared or any(str(v) == error.code for v in values)


def reads_error_code(ev: Evidence) -> list[Finding]:
    """Where an empty account is answered with a status clients retry (Kling's 429, shared with its rate
    and concurrency limits), a client reads the code: no wait refills the account."""
    error = ev.spec.role(ErrorRole.INSUFFICIENT_FUNDS)
    if error.status != 429:
        return []
    creates = [e for e in _api(ev.entries, ev.spec.id) if e["action"] == "create"]
    refused = next((i for i, e in enumerate(creates) if _unfunded(ev, e)), None)
    if refused is None or refused == len(creates) - 1:
        return []
    again = creates[refused + 1 :]
    first, last = (again[0].get("t", ev.start) - ev.start, again[-1].get("t", ev.start) - ev.start)
    return [
        Finding(
            "CLIENT-READS-ERROR-CODE",
            f"sent {len(again)} more create(s) after {ev.spec.id} answered {error.status} with code "
            f"{error.code} ({error.message}): that 429 does not clear by waiting, unlike a rate limit",
            first=first,
            last=last,
            cite=cite(error.doc),
        )
    ]


CHECKS = (
    requests_accepted,
    known_fields,
    stops_at_terminal,
    poll_rate,
    honours_retry_after,
    single_submit,
    surfaces_failure,
    sends_requested,
    signs_requests,
    follows_urls,
    unique_ids,
    cancels_abandoned,
    reads_error_code,
)


def judge(ev: Evidence) -> list[Finding]:
    return fold([finding for check in CHECKS for finding in check(ev)])
