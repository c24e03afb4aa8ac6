"""One run against one target: every request goes through here, so passive rules judge every answer."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from klingsim.core.auth import credential_headers
from klingsim.spec import Action, Endpoint, ErrorRole, Phase, ProviderSpec
from klingsim_contracts import shapes
from klingsim_contracts import strategies as gen
from klingsim_contracts.costs import Shadow, encoded
from klingsim_contracts.rules.base import Drained, NotExercised, RuleFailure
from klingsim_contracts.sandwich import Unavailable, UpstreamControl
from klingsim_contracts.targets import Target

KEY_PLACEHOLDER = "$KLINGSIM_API_KEY"
SECRET_PLACEHOLDER = "$KLINGSIM_SECRET_KEY"  # Kling: the SecretKey the replay signs its JWTs with
JWT_VARIABLE = "KLINGSIM_JWT"
TOP_UP = 10**7
JOBS_END = 3600  # seconds after which every job the kit started has ended (renders take minutes)


@dataclass
class Exchange:
    """A request the kit sent and what came back."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any
    raw: bytes | None
    status: int
    response_headers: dict[str, str]
    response: Any
    text: str
    step: str = ""
    created_id: str | None = None  # the job id a create answered with (replay scripts chain it)
    input: Any = None  # a create's body as the kit wrote it (fal's model id still in it: `gen.split`)

    def curl(self, key: str | None, ids: Mapping[str, str] | None = None) -> str:
        """This request as a bash `curl` command: the key as $KLINGSIM_API_KEY, known job ids as ${JOBn}."""
        subs = dict(ids or {})
        if key:
            subs[key] = KEY_PLACEHOLDER[1:]
        parts = ["curl", "-sS", "-w", "'\\n%{http_code}'", "-X", self.method, _word(self.url, subs)]
        for name, value in self.headers.items():
            parts += ["-H", _word(f"{name}: {value}", subs)]
        if self.raw is not None:
            data = self.raw if len(self.raw) <= 4096 else self.raw[:64] + b"..."
            parts += ["--data-binary", _word(data.decode("utf-8", "replace"), subs)]
        elif self.body is not None:
            parts += ["--data-binary", _word(json.dumps(self.body, ensure_ascii=False), subs)]
        return " ".join(parts)

    def summary(self) -> str:
        return f"{self.status} {self.text[:300]}"


def _word(text: str, subs: Mapping[str, str]) -> str:
    """One bash word: single-quoted when literal, double-quoted (escaped) when it names a variable."""
    found = [value for value in subs if value and value in text]
    if not found:
        return shlex.quote(text)
    escaped = text
    for char in ("\\", '"', "$", "`"):
        escaped = escaped.replace(char, "\\" + char)
    for value in sorted(found, key=len, reverse=True):
        escaped = escaped.replace(value, "${" + subs[value] + "}")
    return f'"{escaped}"'


class Unaffordable(NotExercised):
    """A create the run may not pay for: the rule's free checks go on, the rule is not counted passed."""


@dataclass
class PassiveState:
    seen: int = 0
    failure: RuleFailure | None = None


@dataclass
class Session:
    spec: ProviderSpec
    target: Target
    api_key: str
    control: UpstreamControl | None = None
    seed: int = 0
    max_examples: int = 25
    passive: dict[str, PassiveState] = field(default_factory=dict)
    trail: list[Exchange] = field(default_factory=list)
    fault_window: bool = False
    expect_throttle: bool = False
    drained: bool = False
    # Money: without accounts on a controlled upstream every accepted job may be real money. `shadow` prices
    # each create before it is sent; `budget` caps the run's spending (None: no cap, i.e. --yes-spend).
    shadow: Shadow | None = None
    budget: Decimal | None = None
    spent: Decimal = Decimal(0)
    paying: bool = True  # False: this rule's creates that cost money are not sent (see `unpaid`)
    unpaid: str = ""  # why a create of the current rule was not sent, if one was not
    # The secret the run key signs its tokens with (the official Kling API's SecretKey); None: the spec's
    # example secret (an upstream that knows no secret for the key does not verify signatures).
    secret: str | None = None

    def __post_init__(self) -> None:
        self._view(self.spec)
        self._accounts: bool | None = None
        if self.control is not None:
            self.control.on_call = self._control_call

    def _view(self, spec: ProviderSpec) -> None:
        self.spec = spec
        self.shapes = shapes.discover(spec)
        self.create_endpoint = spec.endpoint(Action.CREATE)
        self.status_endpoint = spec.endpoint(Action.STATUS)

    @contextlib.contextmanager
    def viewing(self, view: ProviderSpec) -> Iterator[None]:
        """Drive one create operation of the provider (and the reads of its jobs) for a while (`views.py`)."""
        before = self.spec
        self._view(view)
        try:
            yield
        finally:
            self._view(before)

    def _control_call(self, method: str, path: str, body: Any, response: httpx.Response) -> None:
        assert self.control is not None
        url = self.control.url + path
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self._record(method, url, headers, body, None, response, "upstream control")

    # ------------------------------------------------------------------ requests
    def auth_headers(self, key: str | None = None) -> dict[str, str]:
        """The provider's own credential headers for the key (Bearer, fal's `Key`, a Kling JWT)."""
        key = key if key is not None else self.api_key
        return credential_headers(self.spec.auth, key, self.secret if key == self.api_key else None)

    def is_create(self, method: str, path: str) -> bool:
        """Whether a request goes to the create operation the kit drives (path templates filled in)."""
        ep = self.create_endpoint
        return method == ep.method and matches_template(ep.path, path)

    def create_path(self, body: Any = None) -> str:
        """Where a create is sent: the operation's path, with the body's path-named variant filled in."""
        if body is None:
            body = gen.cheapest(self.spec, gen.base_bodies(self.spec))
        return gen.split(self.spec, body)[0]

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        auth: bool = True,
        step: str = "",
    ) -> Exchange:
        sent = {**(self.auth_headers() if auth else {}), **(headers or {})}
        if body is not None or raw is not None:
            sent.setdefault("Content-Type", "application/json")
        if self.is_create(method, path):
            self._pay(path, params, sent, encoded(body, raw), step)
        kw: dict[str, Any] = {"headers": sent, "params": params}
        if raw is not None:
            kw["content"] = raw
        elif body is not None:
            kw["json"] = body
        response = self.target.request(method, path, **kw)
        for _ in range(3):
            if not self._throttled(response):
                break
            response = self.target.request(method, path, **kw)
        if self._throttled(response):
            raise NotExercised(
                f"the target rate-limited the kit ({response.status_code}) and the upstream clock can't "
                "be moved past the window; give --upstream-control with a virtual clock, or a higher limit"
            )
        url = str(response.request.url) if response.request is not None else self.target.base_url + path
        exchange = self._record(method, url, sent, body, raw, response, step)
        self._observe(exchange, path)
        return exchange

    def _pay(
        self, path: str, params: Mapping[str, str] | None, headers: dict[str, str], body: bytes, step: str
    ) -> None:
        """Count what this create costs if the target accepts it; refuse to send it past the budget."""
        if self.shadow is None or self.funded():
            return
        price = self.shadow.price(self.create_endpoint.method, path, params or {}, headers, body)
        if price <= 0:
            return
        if not self.paying or (self.budget is not None and self.spent + price > self.budget):
            unit = self.spec.prices.unit
            left = max(Decimal(0), (self.budget or Decimal(0)) - self.spent)
            reason = (
                f"spends money: {step or 'a create'} costs {price} {unit} and the run's budget has {left} "
                f"{unit} left for it (give --budget, --yes-spend, or --upstream-control)"
            )
            self.unpaid = self.unpaid or reason
            raise Unaffordable(reason)
        self.spent += price

    def funded(self) -> bool:
        """The kit funds its own keys on a controlled upstream: nothing it spends there is real money."""
        return self.control is not None and self.has_accounts()

    def _throttled(self, response: httpx.Response) -> bool:
        """A rate-limit answer the kit did not provoke; on a virtual upstream clock, wait out its window."""
        limited = self.spec.role(ErrorRole.RATE_LIMITED)
        if self.fault_window or self.expect_throttle or response.status_code != limited.status:
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        claimed = shapes.claimed_error(self.spec, response.status_code, body)
        if claimed is None or claimed.code == self.spec.roles.get(ErrorRole.INSUFFICIENT_FUNDS):
            return False  # Kling's depleted pack (1102) shares 429 with its rate limit: not a wait
        if self.control is None or not self.control.virtual_clock():
            return True
        wait = response.headers.get("retry-after", "")
        window = self.spec.rate_limit.per_seconds if self.spec.rate_limit else 60
        if claimed.code == self.spec.roles.get(ErrorRole.TOO_MANY_JOBS):
            window = JOBS_END  # too many unfinished jobs (Kling's 1303, fal's 429): let them end
        elif wait.strip().isdigit():
            window = int(wait)
        self.control.advance(window)
        return True

    def _record(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any,
        raw: bytes | None,
        response: httpx.Response,
        step: str,
    ) -> Exchange:
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        text = response.text if "json" in response.headers.get("content-type", "") else ""
        exchange = Exchange(
            method, url, headers, body, raw, response.status_code, dict(response.headers), parsed, text, step
        )
        self.trail.append(exchange)
        return exchange

    def create(self, body: Any, step: str = "create") -> Exchange:
        ep = self.create_endpoint
        path, sent, _ = gen.split(self.spec, body)
        exchange = self.call(ep.method, path, body=sent, step=step)
        exchange.input = body
        exchange.created_id = self.job_id(exchange) if exchange.status < 300 else None
        return exchange

    def status(self, job_id: str, step: str = "poll") -> Exchange:
        return self.on_job(self.status_endpoint, job_id, step)

    def result(self, job_id: str, step: str = "result") -> Exchange:
        """The job's result on its own operation (fal's response_url), else its status answer."""
        ep = self.operation(Action.RESULT)
        return self.on_job(ep, job_id, step) if ep is not None else self.status(job_id, step)

    def on_job(self, ep: Endpoint, job_id: str, step: str = "poll") -> Exchange:
        """A request to an operation on one job (status, result, cancel), its id in the path or the query."""
        if ep.id_in == "path":
            return self.call(ep.method, ep.path.replace("{" + ep.id_param + "}", job_id), step=step)
        return self.call(ep.method, ep.path, params={ep.id_param: job_id}, step=step)

    def operation(self, action: Action) -> Endpoint | None:
        """The provider's operation of a kind on the jobs the kit creates (fal's result and cancel URLs)."""
        ops = self.spec.operations(action)
        return ops[0] if ops else None

    def fetch(self, url: str, step: str = "download") -> Exchange:
        response = self.target.fetch(url)
        return self._record("GET", url, {}, None, None, response, step)

    def download(self, url: str, step: str = "download") -> tuple[Exchange, int]:
        """Fetch an output; the exchange and the number of bytes it carried."""
        response = self.target.fetch(url)
        return self._record("GET", url, {}, None, None, response, step), len(response.content)

    # ------------------------------------------------------------------ reading answers
    def job_id(self, exchange: Exchange) -> str | None:
        value = shapes.read(exchange.response, self.shapes.created_id)
        return value if isinstance(value, str) else None

    def job_status(self, exchange: Exchange, created: bool = False) -> str | None:
        path = self.shapes.created_status if created else self.shapes.job_status
        value = shapes.read(exchange.response, path)
        return value if isinstance(value, str) else None

    def error_of(self, exchange: Exchange) -> str:
        error = shapes.claimed_error(self.spec, exchange.status, exchange.response)
        return error.code if error is not None else ""

    def phases_of(self, word: str) -> set[Phase]:
        return {p for p, w in self.spec.lifecycle.words.items() if w == word}

    # ------------------------------------------------------------------ passive rules
    def rule(self, suffix: str) -> str:
        return f"{self.spec.id.upper()}-{suffix}"

    def _fail_passive(self, suffix: str, expected: str, actual: str, exchange: Exchange) -> None:
        state = self.passive.setdefault(self.rule(suffix), PassiveState())
        state.seen += 1
        if state.failure is None:
            state.failure = RuleFailure(self.rule(suffix), expected, actual, [exchange], exchange.body)

    def _pass_passive(self, suffix: str) -> None:
        self.passive.setdefault(self.rule(suffix), PassiveState()).seen += 1

    def _observe(self, ex: Exchange, path: str) -> None:
        if ex.status >= 500 and not self.fault_window:
            self._fail_passive(
                "NO-SERVER-ERRORS", "no 5xx answer without an upstream fault", ex.summary(), ex
            )
        elif ex.status < 500:
            self._pass_passive("NO-SERVER-ERRORS")
        if ex.status >= 400:
            self._observe_error(ex)
            return
        if self.is_create(ex.method, path):
            self._observe_created(ex)
        elif ex.method == "GET" and ex.status in self._read_statuses(path):
            word = self.job_status(ex)
            if word is not None or self.shapes.job_status is not None:
                self._check_word(word, ex)

    def _observe_error(self, ex: Exchange) -> None:
        error = shapes.claimed_error(self.spec, ex.status, ex.response)
        if error is None:
            paths = ", ".join(".".join(map(str, p)) for p in shapes.code_paths(self.spec))
            self._fail_passive(
                "ERROR-ENVELOPE",
                f"an error in the provider's envelope (a documented code at {paths} with its status)",
                ex.summary(),
                ex,
            )
            return
        problems = shapes.envelope_problems(self.spec, error, ex.response)
        if problems:
            self._fail_passive("ERROR-ENVELOPE", f"the {error.code} envelope", "; ".join(problems), ex)
        else:
            self._pass_passive("ERROR-ENVELOPE")
        if error.retry_after is not None:
            value = ex.response_headers.get("retry-after", "")
            if value.strip().isdigit():
                self._pass_passive("RETRY-AFTER")
            else:
                self._fail_passive(
                    "RETRY-AFTER",
                    f"a Retry-After header (seconds) on {error.code}",
                    repr(value) if value else "no Retry-After header",
                    ex,
                )

    def _read_statuses(self, path: str) -> tuple[int, ...]:
        """The statuses of a status answer that carry a status word (fal's 202 while pending)."""
        ep = self.status_endpoint
        if not matches_template(ep.path, path):
            return ()  # results, lists, cancels: only status answers carry a status word
        return (200,) if ep.pending_status is None else (200, ep.pending_status)

    def _observe_created(self, ex: Exchange) -> None:
        job_id = self.job_id(ex)
        if job_id is None:
            return
        import re

        if re.fullmatch(self.spec.ids.pattern, job_id):
            self._pass_passive("ID-FORMAT")
        else:
            self._fail_passive("ID-FORMAT", f"a job id matching {self.spec.ids.pattern}", job_id, ex)
        self._check_word(self.job_status(ex, created=True), ex)

    def _check_word(self, word: str | None, ex: Exchange) -> None:
        words = sorted(set(self.spec.lifecycle.words.values()))
        if word in words:
            self._pass_passive("STATUS-WORDS")
        else:
            self._fail_passive("STATUS-WORDS", f"a status word among {words}", repr(word), ex)

    # ------------------------------------------------------------------ money and control
    def has_accounts(self) -> bool:
        if self._accounts is None:
            self._accounts = False
            if self.control is not None:
                try:
                    self.control.set_balance(self.spec.id, self.api_key, TOP_UP, self._signing())
                    self._accounts = True
                except Unavailable:
                    pass
        return self._accounts

    def _signing(self) -> str | None:
        """The secret to register upstream with the run key, for providers whose requests are signed."""
        return self.secret if self.spec.auth.signed is not None else None

    def top_up(self) -> bool:
        if not self.has_accounts():
            return False
        assert self.control is not None
        self.control.set_balance(self.spec.id, self.api_key, TOP_UP, self._signing())
        return True

    def balance(self) -> Decimal:
        if not self.has_accounts():
            raise NotExercised("needs --upstream-control to read balances")
        assert self.control is not None
        return Decimal(str(self.control.balance(self.spec.id, self.api_key)))

    def need_control(self, clock: bool = False) -> UpstreamControl:
        if self.control is None:
            raise NotExercised("needs --upstream-control (a klingsim server as the gateway's upstream)")
        if clock and not self.control.virtual_clock():
            raise NotExercised("needs the upstream klingsim on a virtual clock (--clock virtual)")
        return self.control

    def insufficient(self, ex: Exchange) -> bool:
        return self.error_of(ex) == self.spec.roles[ErrorRole.INSUFFICIENT_FUNDS]

    # ------------------------------------------------------------------ expectations
    def accept(self, body: Any, rule_id: str, note: str = "") -> Exchange:
        """Create a job from a valid body; a rejection fails `rule_id` (a drained account stops the run)."""
        ex = self.create(body)
        if self.insufficient(ex) and self.top_up():
            ex = self.create(body)
        if self.insufficient(ex):
            self.drained = True
            raise Drained(
                f"the account ran out of credits at {note or 'a valid request'} (give a funded --api-key, "
                "or --upstream-control so the kit funds its own keys)"
            )
        if ex.status != self.create_endpoint.success_status or self.job_id(ex) is None:
            raise RuleFailure(
                rule_id,
                f"{self.create_endpoint.success_status} and a job id for a valid request ({note[:80]})",
                ex.summary(),
                [ex],
                body,
            )
        return ex

    def reject(self, body: Any, error: str, rule_id: str, note: str = "") -> Exchange:
        """Send an invalid body; anything but the documented error fails `rule_id`."""
        ex = self.create(body)
        expected = self.spec.error(error)
        if not shapes.matches(self.spec, expected, ex.status, ex.response):
            got = self.error_of(ex) or "no documented error"
            raise RuleFailure(
                rule_id,
                f"{expected.status} {error} ({note[:80]})" if note else f"{expected.status} {error}",
                f"{ex.status} {got}: {ex.text[:200]}",
                [ex],
                body,
            )
        return ex


def matches_template(template: str, path: str) -> bool:
    """Whether `path` fills the path template (`{id}` one segment, `{model_id:path}` one or more)."""
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{"):
            pattern += ".+" if part.endswith(":path}") else "[^/]+"
        else:
            pattern += re.escape(part)
    return re.fullmatch(pattern, path) is not None
