"""Rules on the operations around a job beyond create and status, each derived from the spec's declarations:

- a status that answers `pending_status` (fal's 202) until the job ends, then 200;
- absolute job URLs in the answers (fal's status_url, response_url, cancel_url) naming the provider's own
  operations on that job (`/fal-ai/kling-video/requests/<id>/status`, without the model's subpath);
- a job found by a field of its request (`Endpoint.id_fields`: Kling's `external_task_id`), which no two jobs
  of an account share (`Endpoint.unique_fields`);
- a cancel operation: its answer, the job ending unbilled, a second cancel and an unknown id refused;
- a result operation: pending until the job ends, then the documented answer whose byte counts
  (`Unit.BYTES`) are the sizes of the files they describe.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped]  # no stubs are pinned; used for one validator

from klingsim.core.openapi import shape_schema
from klingsim.spec import Action, Endpoint, ErrorRole, ParamType, Phase, ProviderSpec
from klingsim.spec.shapes import Shape, Unit
from klingsim_contracts import flows, shapes
from klingsim_contracts.rules.answers import declared_fields
from klingsim_contracts.rules.base import Layer, Need, NotExercised, Rule, RuleFailure
from klingsim_contracts.rules.errors import unknown_id
from klingsim_contracts.rules.money import _close
from klingsim_contracts.session import Exchange, Session

_JOB_ACTIONS = (Action.STATUS, Action.RESULT, Action.CANCEL)


def _job_paths(spec: ProviderSpec, job_id: str) -> list[str]:
    """The paths of the provider's operations on one job, its id filled in."""
    return [
        e.path.replace("{" + e.id_param + "}", job_id)
        for e in spec.endpoints
        if e.action in _JOB_ACTIONS and e.id_param and e.id_in == "path"
    ]


def _url_fields(shape: Shape | None) -> list[tuple[str | int, ...]]:
    return shape.with_unit(Unit.URL) if shape is not None else []


def _fail(rule_id: str, expected: str, actual: str, exchanges: list[Exchange], body: Any = None) -> None:
    raise RuleFailure(rule_id, expected, actual, exchanges, body)


def _mismatch(shape: Shape, spec: ProviderSpec, body: Any) -> str:
    validator = jsonschema.Draft202012Validator(shape_schema(spec, shape))
    problems = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if not problems:
        return ""
    where = ".".join(map(str, problems[0].absolute_path)) or "the body"
    return f"{where}: {problems[0].message}"


# ----------------------------------------------------------------------------- pending status
def _check_pending(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    session.need_control(clock=True)
    status = session.status_endpoint
    pending = status.pending_status
    created = session.accept(flows.cheap_body(spec), rule_id, "a job to watch")
    job_id = session.job_id(created)
    assert job_id is not None
    waiting = {spec.lifecycle.word(Phase.QUEUED), spec.lifecycle.word(Phase.RUNNING)}
    polled = session.status(job_id)
    word = session.job_status(polled)
    if word in waiting and polled.status != pending:
        _fail(rule_id, f"{pending} while the job is {word!r}", f"{polled.status}", [created, polled])
    done = flows.finish(session, job_id)
    if done.status != 200:
        _fail(rule_id, "200 once the job has ended", done.summary(), [created, done])


# ----------------------------------------------------------------------------- job URLs
def _check_job_urls(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    created = session.accept(flows.cheap_body(spec), rule_id, "a job whose URLs are read")
    job_id = session.job_id(created)
    assert job_id is not None
    paths = _job_paths(spec, job_id)
    polled = session.status(job_id)
    for ex, shape in (
        (created, session.create_endpoint.response),
        (polled, session.status_endpoint.response),
    ):
        for where in _url_fields(shape):
            for url in shapes.read_all(ex.response, where):
                parts = urlsplit(url) if isinstance(url, str) else None
                absolute = parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)
                if not absolute or parts is None or not any(parts.path.endswith(p) for p in paths):
                    field = ".".join(map(str, where))
                    _fail(
                        rule_id,
                        f"{field}: an absolute URL ending in one of {', '.join(paths)}",
                        repr(url),
                        [created, polled],
                    )


# ----------------------------------------------------------------------------- ids from the request
def _check_request_id(spec: ProviderSpec, rule_id: str, session: Session) -> None:
    status = session.status_endpoint
    name = status.id_fields[0]
    mine = f"kit-{uuid.uuid4().hex[:16]}"
    body = {**flows.cheap_body(spec), name: mine}
    created = session.accept(body, rule_id, f"a job with {name}")
    job_id = session.job_id(created)
    polled = session.status(mine, step=f"query by {name}")
    if polled.status not in (200, status.pending_status) or shapes.read(
        polled.response, session.shapes.job_id
    ) != (job_id):
        _fail(
            rule_id,
            f"the job {job_id} found by its {name} {mine!r}",
            polled.summary(),
            [created, polled],
            body,
        )
    if name not in session.create_endpoint.unique_fields:
        return
    error = spec.role(ErrorRole.VALIDATION)
    again = session.create(body, step=f"a second job with the same {name}")
    if not shapes.matches(spec, error, again.status, again.response):
        _fail(
            rule_id,
            f"{error.status} {error.code}: {name} is unique within the account",
            again.summary(),
            [created, again],
            body,
        )


# ----------------------------------------------------------------------------- cancel
def _check_cancel(spec: ProviderSpec, cancel: Endpoint, rule_id: str, session: Session) -> None:
    session.need_control(clock=True)
    before = session.balance() if session.has_accounts() else None
    created = session.accept(flows.cheap_body(spec), rule_id, "a job to cancel")
    job_id = session.job_id(created)
    assert job_id is not None
    answer = session.on_job(cancel, job_id, "cancel")
    problem = _mismatch(cancel.response, spec, answer.response) if cancel.response is not None else ""
    if answer.status != cancel.success_status or problem:
        _fail(
            rule_id,
            f"{cancel.success_status} and the documented cancel answer",
            problem or answer.summary(),
            [created, answer],
        )
    done = flows.finish(session, job_id)
    if before is not None:
        after = session.balance()
        if not _close(after, before, spec.prices.places):
            _fail(
                rule_id,
                f"balance {before}: a cancelled job is not billed",
                f"balance {after}",
                list(session.trail),
            )
    for what, target, role in (
        ("a second cancel", job_id, ErrorRole.ALREADY_FINISHED),
        ("a cancel of an unknown id", unknown_id(spec), ErrorRole.NOT_FOUND),
    ):
        error = spec.error(cancel.role(spec.roles, role))
        again = session.on_job(cancel, target, what)
        if not shapes.matches(spec, error, again.status, again.response):
            _fail(rule_id, f"{error.status} {error.code} for {what}", again.summary(), [created, done, again])


# ----------------------------------------------------------------------------- result
def _check_result(spec: ProviderSpec, result: Endpoint, rule_id: str, session: Session) -> None:
    session.need_control(clock=True)
    created = session.accept(flows.cheap_body(spec), rule_id, "a job whose result is read")
    job_id = session.job_id(created)
    assert job_id is not None
    early = session.on_job(result, job_id, "result before the job ended")
    if result.pending_status is not None and early.status != result.pending_status:
        _fail(rule_id, f"{result.pending_status} before the job ended", early.summary(), [created, early])
    flows.finish(session, job_id)
    final = session.on_job(result, job_id, "result")
    problem = _mismatch(result.response, spec, final.response) if result.response is not None else ""
    if final.status != 200 or problem:
        _fail(rule_id, "200 and the documented result", problem or final.summary(), [created, final])
    assert result.response is not None
    urls = result.response.with_unit(Unit.URL)
    for where in result.response.with_unit(Unit.BYTES):
        beside = next((p for p in urls if p[:-1] == where[:-1]), None)  # the file's URL in the same object
        sizes, files = shapes.read_all(final.response, where), shapes.read_all(final.response, beside)
        for size, url in zip(sizes, files, strict=False):
            got, length = session.download(str(url))
            if got.status != 200 or size != length:
                field = ".".join(map(str, where))
                _fail(
                    rule_id,
                    f"{field} = the byte count of {url}",
                    f"{field} {size!r}; the download has {length} bytes ({got.status})",
                    [created, final, got],
                )


# ----------------------------------------------------------------------------- list
def _paging(listing: Endpoint, at: str) -> dict[str, str]:
    """Every integer query parameter at its minimum, or one past its maximum (Kling's pageNum, pageSize)."""
    out = {}
    for param in listing.query:
        if param.type is ParamType.INTEGER and param.minimum is not None and param.maximum is not None:
            out[param.name] = str(int(param.minimum if at == "minimum" else param.maximum + 1))
    return out


def _check_list(spec: ProviderSpec, listing: Endpoint, rule_id: str, session: Session) -> None:
    assert listing.response is not None
    ids_at = listing.response.with_unit(Unit.JOB_ID)[0]
    made = [session.accept(flows.cheap_body(spec), rule_id, "the older job to list")]
    timed = session.control is not None and session.control.virtual_clock()
    if timed:
        assert session.control is not None
        session.control.advance(1)  # a second apart, so "newest first" has one answer
    made.append(session.accept(flows.cheap_body(spec), rule_id, "the newer job to list"))
    newest = [session.job_id(made[-1])] if timed else [session.job_id(ex) for ex in made]
    first = session.call(
        listing.method, listing.path, params=_paging(listing, "minimum"), step="list, first page"
    )
    listed = shapes.read_all(first.response, ids_at)
    if first.status != 200 or len(listed) != 1 or listed[0] not in newest:
        want = f"200 and one job on the first page of one: the newest, {' or '.join(map(str, newest))}"
        _fail(rule_id, want, f"{first.status} {listed}", [*made, first])
    error = spec.error(listing.role(spec.roles, ErrorRole.VALIDATION))
    over = _paging(listing, "over")
    refused = session.call(listing.method, listing.path, params=over, step="list, paging out of range")
    if not shapes.matches(spec, error, refused.status, refused.response):
        _fail(rule_id, f"{error.status} {error.code} for {over}", refused.summary(), [refused])


# ----------------------------------------------------------------------------- balance
def _check_balance(spec: ProviderSpec, balance: Endpoint, rule_id: str, session: Session) -> None:
    if not session.has_accounts():
        raise NotExercised("needs --upstream-control to know the upstream balance")
    assert balance.response is not None
    where = balance.response.with_unit(Unit.MONEY)
    shown: list[Exchange] = []
    for step in ("before a job", "after a job"):
        if shown:
            shown.append(session.accept(flows.cheap_body(spec), rule_id, "a job that costs"))
        ex = session.call(balance.method, balance.path, step=f"balance {step}")
        shown.append(ex)
        expected = session.balance()
        values = [v for path in where for v in shapes.read_all(ex.response, path)]
        if ex.status != 200 or not any(
            isinstance(v, int | float) and not isinstance(v, bool) and _close(Decimal(str(v)), expected, 4)
            for v in values
        ):
            _fail(
                rule_id,
                f"the balance answer to show {expected} {spec.prices.unit} {step}",
                ex.summary(),
                shown,
            )


def job_rules(spec: ProviderSpec) -> Iterator[Rule]:
    pid = spec.id.upper()
    status = spec.endpoint(Action.STATUS)
    create = spec.endpoint(Action.CREATE)
    clock = frozenset({Need.CLOCK})
    if status.pending_status is not None:
        yield Rule(
            f"{pid}-PENDING-STATUS",
            spec.id,
            f"the status answers {status.pending_status} until the job ends, then 200",
            status.doc,
            Layer.SANDWICH,
            partial(_check_pending, spec, f"{pid}-PENDING-STATUS"),
            clock,
        )
    if _url_fields(create.response) and len(_job_paths(spec, "x")) > 1:
        yield Rule(
            f"{pid}-JOB-URLS",
            spec.id,
            "the job URLs in the answers are absolute and name the provider's own operations on the job",
            create.doc,
            Layer.PROPERTY,
            partial(_check_job_urls, spec, f"{pid}-JOB-URLS"),
        )
    if status.id_fields:
        unique = " (unique within the account)" if status.id_fields[0] in create.unique_fields else ""
        yield Rule(
            f"{pid}-QUERY-BY-{status.id_fields[0].upper().replace('_', '-')}",
            spec.id,
            f"a job is found by its {status.id_fields[0]}{unique}",
            status.doc,
            Layer.PROPERTY,
            partial(
                _check_request_id, spec, f"{pid}-QUERY-BY-{status.id_fields[0].upper().replace('_', '-')}"
            ),
        )
    for cancel in spec.operations(Action.CANCEL):
        yield Rule(
            f"{pid}-CANCEL",
            spec.id,
            f"a cancel answers {cancel.success_status} and the job ends unbilled; a second cancel and an "
            "unknown id are refused",
            cancel.doc,
            Layer.SANDWICH,
            partial(_check_cancel, spec, cancel, f"{pid}-CANCEL"),
            clock,
            covers=frozenset(declared_fields(spec, Action.CANCEL)),
        )
    listing = spec.operations(Action.LIST)[0] if spec.operations(Action.LIST) else None
    if (
        listing is not None
        and create.op_id in listing.jobs_of
        and listing.response is not None
        and listing.response.with_unit(Unit.JOB_ID)
        and _paging(listing, "minimum")
    ):
        yield Rule(
            f"{pid}-LIST",
            spec.id,
            f"{listing.method} {listing.path} lists the account's jobs newest first, paged by "
            f"{', '.join(_paging(listing, 'minimum'))} within their documented ranges",
            listing.doc,
            Layer.PROPERTY,
            partial(_check_list, spec, listing, f"{pid}-LIST"),
            covers=frozenset(f"{p}:query" for p in _paging(listing, "minimum")),
        )
    for balance in spec.operations(Action.BALANCE)[:1]:
        if balance.response is None or not balance.response.with_unit(Unit.MONEY):
            continue
        yield Rule(
            f"{pid}-BALANCE",
            spec.id,
            f"{balance.method} {balance.path} shows what remains of the account, also after a job is charged",
            balance.doc,
            Layer.SANDWICH,
            partial(_check_balance, spec, balance, f"{pid}-BALANCE"),
            frozenset({Need.ACCOUNTS}),
            covers=frozenset(declared_fields(spec, Action.BALANCE)),
        )
    for result in spec.operations(Action.RESULT):
        yield Rule(
            f"{pid}-RESULT",
            spec.id,
            "the result is pending until the job ends, then the documented answer with true byte counts",
            result.doc,
            Layer.SANDWICH,
            partial(_check_result, spec, result, f"{pid}-RESULT"),
            clock,
            covers=frozenset(declared_fields(spec, Action.RESULT)),
        )
