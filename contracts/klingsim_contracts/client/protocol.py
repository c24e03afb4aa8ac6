"""Client checks of a provider's own protocol, each derived from its spec and citing its page: signed requests
(Kling's JWT), the URLs a create hands out (fal's status_url, response_url, cancel_url), ids the provider
keeps unique (Kling's external_task_id), cancelling what a client gives up on (fal), and error codes that
share a retryable status (Kling's 429/1102)."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

from klingsim.core import auth
from klingsim.core.routing import Router
from klingsim.spec import Action, ErrorRole, ProviderSpec
from klingsim_contracts.client.evidence import Evidence, Finding, cite
from klingsim_contracts.client.evidence import api as _api
from klingsim_contracts.client.evidence import error_text as _error_text


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


def rebuilt(ev: Evidence) -> list[dict[str, Any]]:
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
    built = rebuilt(ev)
    if not built:
        return []
    handed = _handed_out(ev)
    status = ev.spec.operations(Action.STATUS)
    found: list[Finding] = []
    for entry in built:
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


def reused_ids(ev: Evidence) -> list[tuple[dict[str, Any], str, str]]:
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
    for entry, name, value in reused_ids(ev):
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
