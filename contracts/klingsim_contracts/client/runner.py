"""Drive a client through every scenario: in-process (`check_client`) or as a program (`check_command`).

In-process, the client is a callable `run(base_url, api_key, request)`: it gets the provider's *real* base
URL (its traffic is routed to the simulator, see `routing`), submits `request`, waits, downloads, and
returns to claim success or raises to report failure. It waits in virtual time: `time.sleep` and
`asyncio.sleep` advance the simulator's clock (see `vtime`). Requests come from Hypothesis (valid bodies
derived from the spec); a failing scenario is shrunk to the simplest request that still shows the problem.
Where a provider has several create paths or names the model in the path (Kling, fal), the callable is also
given `create_path=` (the path to POST to, relative to the base URL: `/v1/videos/omni-video`,
`/fal-ai/kling-video/o3/standard/text-to-video`) when it takes that keyword; where requests are signed
(Kling), `secret_key=` (the SecretKey of the AccessKey passed as `api_key`), which it must take.

As a program (any language), the command runs once per scenario against a loopback server, with
KLINGSIM_BASE_URL, KLINGSIM_API_KEY, KLINGSIM_REQUEST and KLINGSIM_CREATE_PATH (and, for a signed provider,
KLINGSIM_SECRET_KEY) in its environment; exit status 0 claims success. It waits in real time, so the
simulator's clock runs `speed` times faster than the wall clock, and the checks judge intervals on the wall
clock. Callbacks and webhooks the client asks for are delivered: in-process to nowhere (recorded, answered
200: nothing leaves the machine), to a program on loopback too (its own receiver).

This module never imports `klingsim.server`: callers hand it `make_app` (and `serve`, for programs).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL, by_id
from klingsim.spec import ProviderSpec
from klingsim_contracts.client import inputs
from klingsim_contracts.client.checks import Evidence, Finding, Outcome, fold, judge
from klingsim_contracts.client.inputs import Ask, minimal_ask, single, valid_asks
from klingsim_contracts.client.report import ClientReport, ScenarioResult, _target, transcript
from klingsim_contracts.client.scenarios import Scenario, Stage, applies, by_name, signing_secret, unstaged
from klingsim_contracts.recording import RecordingApp
from klingsim_contracts.routing import AsgiApp, TrafficRouter
from klingsim_contracts.vtime import RunawayClient, sleeps_advance

ClientRun = Callable[[str, str, dict[str, Any]], Any]
MakeApp = Callable[[Simulator], AsgiApp]
Serve = Callable[[AsgiApp], AbstractContextManager[str]]

DEFAULT_MIN_POLL_INTERVAL = 1.0  # seconds; inferred: no provider page states a polling rate
DEFAULT_BUDGET_SECONDS = 6 * 3600.0  # virtual time a client may wait in one scenario
DEFAULT_MAX_REQUESTS = 400  # requests a client may send in one scenario


class _ScenarioFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.scenario)
        self.result = result


def _client_name(run: Any) -> str:
    return str(getattr(run, "__qualname__", None) or getattr(run, "__name__", None) or repr(run))


class _Harness:
    """One simulator, recorder and router for a whole in-process check; reset between runs."""

    def __init__(self, spec: ProviderSpec, make_app: MakeApp, seed: int, max_requests: int) -> None:
        self.spec = spec
        self.delivered: list[tuple[str, dict[str, Any]]] = []
        self.sim = Simulator(ALL, VirtualClock(), seed=seed, callback_transport=self._deliver)
        self.recorder = RecordingApp(make_app(self.sim), self.sim)
        self.router = TrafficRouter(self.recorder, ALL)
        self.router.guard = self._guard
        self.max_requests = max_requests

    def _deliver(
        self, url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        """A callback the client asked for: recorded and answered 200, never sent off the machine."""
        self.delivered.append((url, payload))
        return 200, None

    def _guard(self) -> None:
        if len(self.recorder.entries) >= self.max_requests:
            raise RunawayClient(f"the client sent more than {self.max_requests} requests in one scenario")

    def stage(
        self, scenario: Scenario, api_key: str, retry_after: int | None, secret: str | None = None
    ) -> Stage:
        self.sim.reset()
        self.recorder.clear()
        self.router.refused.clear()
        self.delivered.clear()
        stage = Stage(self.sim, self.spec, scenario, retry_after)
        self.recorder.before[:] = [stage.before]
        self.recorder.transforms[:] = [stage.transform]
        self.recorder.after[:] = [stage.after]
        stage.prepare(api_key, secret)
        return stage


def _takes(run: Any, name: str) -> bool:
    """Whether the callable takes keyword `name` (or any keyword)."""
    try:
        parameters = inspect.signature(run).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == name and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


def _extras(run: Any, spec: ProviderSpec, secret: str | None) -> Callable[[Ask], dict[str, Any]]:
    """The keywords a client of this provider gets beside (base_url, api_key, request)."""
    if secret is not None and not _takes(run, "secret_key"):
        raise TypeError(
            f"{spec.id} requests are signed with a secret key: the client must take a `secret_key` keyword "
            "(run(base_url, api_key, request, *, secret_key, create_path))"
        )
    path = not single(spec) and _takes(run, "create_path")

    def extras(ask: Ask) -> dict[str, Any]:
        found: dict[str, Any] = {"create_path": ask.path} if path else {}
        if secret is not None:
            found["secret_key"] = secret
        return found

    return extras


def _call(
    run: ClientRun,
    base_url: str,
    api_key: str,
    request: dict[str, Any],
    extras: dict[str, Any] | None = None,
) -> Outcome:
    try:
        result = run(base_url, api_key, json.loads(json.dumps(request)), **(extras or {}))
        if inspect.isawaitable(result):
            result = asyncio.run(_awaited(result))
    except RunawayClient as runaway:
        return Outcome(False, f"stopped: {runaway}")
    except Exception as error:
        return Outcome(False, f"{type(error).__name__}: {error}")
    return Outcome(True, _short_repr(result))


async def _awaited(value: Any) -> Any:
    return await value


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 120 else text[:119] + "…"


def _result(
    scenario: Scenario,
    ask: Ask,
    findings: list[Finding],
    outcome: Outcome,
    entries: list[dict[str, Any]],
    start: float,
    spec: ProviderSpec,
    delivered: list[tuple[str, dict[str, Any]]] | None = None,
) -> ScenarioResult:
    claimed = "claimed success" if outcome.claimed_success else f"reported failure: {outcome.detail}"
    calls: dict[str, int] = {}
    for url, _ in delivered or ():
        calls[url] = calls.get(url, 0) + 1
    callbacks = [f"callback POST {url} (x{n}, recorded, not sent)" for url, n in calls.items()]
    return ScenarioResult(
        scenario.name,
        scenario.description,
        findings,
        ask.body,
        1,
        claimed,
        transcript(entries, start) + callbacks,
        create_path="" if single(spec) else ask.path,
    )


def check_client(
    run: ClientRun,
    *,
    provider: str,
    make_app: MakeApp,
    scenarios: Sequence[str] | None = None,
    max_examples: int = 3,
    min_poll_interval: float = DEFAULT_MIN_POLL_INTERVAL,
    api_key: str | None = None,
    seed: int = 0,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    max_requests: int = DEFAULT_MAX_REQUESTS,
) -> ClientReport:
    """Run `run(base_url, api_key, request)` through each scenario with Hypothesis-drawn requests."""
    spec = by_id(provider)
    inputs.require(spec)
    key = api_key or spec.auth.example_key
    secret = signing_secret(spec, seed)
    extras = _extras(run, spec, secret)
    harness = _Harness(spec, make_app, seed, max_requests)
    report = ClientReport(provider, _client_name(run))

    def once(scenario: Scenario, ask: Ask) -> ScenarioResult:
        harness.stage(scenario, key, None, secret)
        start = harness.sim.clock.now()
        with sleeps_advance(harness.sim.advance, budget_seconds):
            outcome = _call(run, spec.base_url, key, ask.body, extras(ask))
        entries = list(harness.recorder.entries)
        evidence = Evidence(
            spec, harness.sim, scenario, key, entries, outcome, min_poll_interval, ask.body, start, ask
        )
        findings = judge(evidence) + fold(_refused(harness.router))
        if outcome.detail.startswith("stopped:"):
            findings.append(Finding("CLIENT-TERMINATES", outcome.detail[len("stopped: ") :]))
        return _result(scenario, ask, findings, outcome, entries, start, spec, list(harness.delivered))

    with harness.router:
        for scenario in by_name(list(scenarios) if scenarios else None, spec):
            if not applies(scenario, spec):
                report.results.append(
                    ScenarioResult(
                        scenario.name, scenario.description, not_exercised=unstaged(scenario, spec)
                    )
                )
                continue
            report.results.append(_explore(scenario, spec, once, max_examples))
    return report


def _explore(
    scenario: Scenario,
    spec: ProviderSpec,
    once: Callable[[Scenario, Ask], ScenarioResult],
    max_examples: int,
) -> ScenarioResult:
    """Run one scenario on Hypothesis-drawn requests; a failure is shrunk to its simplest request."""
    from hypothesis import HealthCheck, Verbosity, given, settings
    from hypothesis import Phase as HypothesisPhase

    runs = 0
    passed: list[ScenarioResult] = []

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        phases=(HypothesisPhase.generate, HypothesisPhase.shrink),
    )
    @given(ask=valid_asks(spec))
    def probe(ask: Ask) -> None:
        nonlocal runs
        runs += 1
        result = once(scenario, ask)
        if result.findings:
            raise _ScenarioFailed(result)
        passed[:] = [result]

    try:
        probe()
    except _ScenarioFailed as failed:
        failed.result.runs = runs
        return failed.result
    result = passed[0] if passed else ScenarioResult(scenario.name, scenario.description)
    result.runs = runs
    return result


def _refused(router: TrafficRouter) -> list[Finding]:
    return [
        Finding("CLIENT-KNOWN-HOSTS", f"sent {r.method} {r.url}, a host that is not the provider's")
        for r in router.refused
    ]


# ----------------------------------------------------------------------------- programs (any language)
DEFAULT_TIMEOUT_FACTOR = 3.0  # a run may take this many times the scenario's expected wall time
MIN_TIMEOUT = 10.0  # seconds: process start-up and a few polls, whatever the scenario


def scenario_timeout(
    spec: ProviderSpec,
    scenario: Scenario,
    speed: float,
    retry_after: int | None,
    factor: float = DEFAULT_TIMEOUT_FACTOR,
) -> float:
    """Seconds a program may take on this scenario: a small multiple of its expected wall time."""
    render = spec.lifecycle.render
    longest_output = 15.0  # seconds of video: the longest any seed provider renders
    slowest = render.queued[1] + render.base[1] + longest_output * render.per_output_second[1]
    slowest *= max((factor for _, factor in render.factors), default=1.0)
    simulated = max(slowest, scenario.slow_seconds)
    waited = retry_after or 0
    return max(MIN_TIMEOUT, factor * (simulated / max(speed, 1e-9) + waited))


def _doing(entries: list[dict[str, Any]], start: float, hung: subprocess.TimeoutExpired) -> str:
    """What a hung program was doing: its last request and answer, and its last words."""
    if entries:
        last = entries[-1]
        what = (
            f"it had sent {len(entries)} request(s); the last, {_target(last)} at "
            f"t=+{last['t'] - start:.1f}s, was answered {last.get('status', '(no answer yet)')}"
        )
    else:
        what = "it had sent no request"
    output = hung.stderr or hung.stdout or b""
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
    words = " | ".join(text.strip().splitlines()[-2:])
    return what + (f"; its last output: {words}" if words else "")


@contextmanager
def _clock_driver(sim: Simulator, speed: float) -> Iterator[threading.Event]:
    """Advance the simulator's virtual clock `speed` times as fast as the wall clock, in a thread, while the
    yielded event is set (cleared: time stands still, e.g. while a finished run is judged)."""
    stop = threading.Event()
    running = threading.Event()
    running.set()

    def drive() -> None:
        last = time.monotonic()
        while not stop.wait(0.01):
            now = time.monotonic()
            if running.is_set():
                sim.advance((now - last) * speed)
            last = now

    thread = threading.Thread(target=drive, name="klingsim-clock", daemon=True)
    thread.start()
    try:
        yield running
    finally:
        stop.set()
        thread.join(timeout=5)


def check_command(
    argv: Sequence[str],
    *,
    provider: str,
    make_app: MakeApp,
    serve: Serve,
    scenarios: Sequence[str] | None = None,
    speed: float = 60.0,
    retry_after: int | None = 1,
    min_poll_interval: float = DEFAULT_MIN_POLL_INTERVAL,
    timeout: float | None = None,
    timeout_factor: float = DEFAULT_TIMEOUT_FACTOR,
    seed: int = 0,
) -> ClientReport:
    """Run a client program once per scenario against a loopback server and judge what it sent.

    A run may take `timeout` seconds, or by default `timeout_factor` times the scenario's expected wall
    time (its slowest simulated render at `speed`, plus the Retry-After it announces), at least
    MIN_TIMEOUT seconds: a hung client costs seconds, not minutes."""
    spec = by_id(provider)
    inputs.require(spec)
    key = spec.auth.example_key
    secret = signing_secret(spec, seed)
    # Loopback callbacks reach a program's own receiver (a webhook URL on 127.0.0.1).
    sim = Simulator(ALL, VirtualClock(), seed=seed, allow_http_callbacks=True)
    recorder = RecordingApp(make_app(sim), sim, client_time=time.monotonic)
    report = ClientReport(provider, " ".join(argv))
    ask = minimal_ask(spec)
    request = ask.body
    with serve(recorder) as base_url, _clock_driver(sim, speed) as clock_runs:
        for scenario in by_name(list(scenarios) if scenarios else None, spec):
            if not applies(scenario, spec):
                report.results.append(
                    ScenarioResult(
                        scenario.name, scenario.description, not_exercised=unstaged(scenario, spec)
                    )
                )
                continue
            sim.reset()
            recorder.clear()
            stage = Stage(sim, spec, scenario, retry_after)
            recorder.before[:] = [stage.before]
            recorder.transforms[:] = [stage.transform]
            recorder.after[:] = [stage.after]
            stage.prepare(key, secret)
            env = {
                **os.environ,
                "KLINGSIM_BASE_URL": f"{base_url}/{provider}",
                "KLINGSIM_API_KEY": key,
                "KLINGSIM_REQUEST": json.dumps(request),
                "KLINGSIM_CREATE_PATH": ask.path,
            }
            if secret is not None:
                env["KLINGSIM_SECRET_KEY"] = secret
            start = time.monotonic()
            clock_runs.set()
            limit = timeout or scenario_timeout(spec, scenario, speed, retry_after, timeout_factor)
            findings: list[Finding] = []
            try:
                done = subprocess.run(
                    list(argv), check=False, env=env, capture_output=True, text=True, timeout=limit
                )
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                outcome = Outcome(done.returncode == 0, f"exit {done.returncode}: {' | '.join(tail)}")
            except subprocess.TimeoutExpired as hung:
                doing = _doing(list(recorder.entries), start, hung)
                outcome = Outcome(False, f"did not finish within {limit:.0f} s; stopped")
                findings.append(Finding("CLIENT-TERMINATES", f"did not finish within {limit:.0f} s; {doing}"))
            clock_runs.clear()  # judge the state the program left, not what the clock did since
            entries = list(recorder.entries)
            evidence = Evidence(
                spec, sim, scenario, key, entries, outcome, min_poll_interval, request, start, ask
            )
            findings = judge(evidence) + findings
            report.results.append(_result(scenario, ask, findings, outcome, entries, start, spec))
    return report
