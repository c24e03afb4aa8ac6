"""The klingsim pytest plugin (entry point `pytest11: klingsim`).

Imports only pytest at module level: everything else is imported when a fixture or option is used, so
installing klingsim costs other test suites nothing.

This is the one module of `klingsim_contracts` that imports `klingsim.server` (lazily, in fixtures): the
fixtures must build the simulator's ASGI app and threaded server; everything they hand it to (routing,
recording, client mode) receives the app as a value and never imports the server.

Fixtures: `klingsim` (function scope: in-process simulator on a virtual clock, provider hosts routed to it),
`klingsim_server` (session scope: the simulator on a loopback port in a thread), `klingsim_check_client`
(client mode over `check_client`). Marker: `@pytest.mark.klingsim(provider=..., balance=..., faults=[...])`.
Options: `--klingsim-target/-provider/-api-key/-upstream-control` run the gateway kit (its own plugin).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from klingsim_contracts.client import ClientReport
    from klingsim_contracts.handle import KlingsimHandle

MARKER_OPTIONS = ("provider", "balance", "faults")
CLOCKS = ("virtual", "real")
HANDLE = pytest.StashKey["KlingsimHandle"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("klingsim", "klingsim contract kit")
    group.addoption("--klingsim-target", help="base URL of a gateway to check against a provider's contract")
    group.addoption("--klingsim-provider", help="provider id the target implements (e.g. kling3api)")
    group.addoption("--klingsim-api-key", help="API key the kit sends to the target")
    group.addoption(
        "--klingsim-upstream-control",
        help="base URL of the klingsim server the gateway uses upstream (faults and time are driven there)",
    )
    group.addoption(
        "--klingsim-budget",
        metavar="AMOUNT",
        help="gateway kit without upstream control: spend at most AMOUNT (in the provider's unit)",
    )
    group.addoption(
        "--klingsim-yes-spend",
        action="store_true",
        help="gateway kit without upstream control: run every rule, whatever it costs",
    )
    group.addoption(
        "--klingsim-server-clock",
        choices=CLOCKS,
        default="virtual",
        help="clock of the klingsim_server fixture: virtual (moved by .advance(); default) or real",
    )
    group.addoption(
        "--klingsim-server-speed",
        type=float,
        default=1.0,
        help="with --klingsim-server-clock real: simulated seconds per real second (60: a minute a second)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "klingsim(*, provider=None, balance=None, faults=()): configure the `klingsim` fixture: default "
        "provider, starting balance of new keys, faults to inject (FaultSpec or control-plane JSON dicts)",
    )
    target = config.getoption("--klingsim-target", None)
    if not target:
        return
    if not config.getoption("--klingsim-provider", None):
        raise pytest.UsageError("--klingsim-target needs --klingsim-provider (the API the target implements)")
    import importlib

    try:
        gateway = importlib.import_module("klingsim_contracts.pytest_gateway")
    except ModuleNotFoundError as missing:
        if missing.name not in ("klingsim_contracts.pytest_gateway",):
            raise
        raise pytest.UsageError(
            "--klingsim-target runs the gateway contract kit, but klingsim_contracts.pytest_gateway is not "
            "installed in this klingsim version"
        ) from None
    plugin = gateway.GatewayPlugin(
        target,
        config.getoption("--klingsim-provider", None),
        config.getoption("--klingsim-api-key", None),
        config.getoption("--klingsim-upstream-control", None),
        budget=config.getoption("--klingsim-budget", None),
        yes_spend=bool(config.getoption("--klingsim-yes-spend", False)),
    )
    config.pluginmanager.register(plugin, "klingsim-gateway")


# ----------------------------------------------------------------------------- Hypothesis output
def _schemathesis_item(item: pytest.Item) -> bool:
    return any(type(node).__module__.startswith("schemathesis") for node in item.listchain())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Give Hypothesis back its printer for tests that are not schemathesis' own.

    schemathesis swaps `hypothesis.core.RepresentationPrinter` for a no-op (a speed-up for its own runs),
    which turns every other falsifying example into `test_x(x=,)` (toolchain.md item 1). Guarded: only when
    Hypothesis is already imported and the printer in place is schemathesis'; put back afterwards.
    """
    import sys

    core = sys.modules.get("hypothesis.core")
    current = getattr(core, "RepresentationPrinter", None)
    swapped = (
        core is not None
        and current is not None
        and str(getattr(current, "__module__", "")).startswith("schemathesis")
        and not _schemathesis_item(item)
    )
    if swapped:
        from hypothesis.vendor import pretty

        core.RepresentationPrinter = pretty.RepresentationPrinter  # type: ignore[union-attr]
    try:
        yield
    finally:
        if swapped:
            core.RepresentationPrinter = current  # type: ignore[union-attr]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """A failed test whose client waited on real time while the clock was virtual gets told so."""
    outcome = yield
    report = outcome.get_result()
    handle = item.stash.get(HANDLE, None)
    if handle is None or report.when != "call" or not report.failed:
        return
    hint = handle.real_time_hint()
    if hint:
        report.sections.append(("klingsim: the client waited on real time", hint))


# ----------------------------------------------------------------------------- fixtures
def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("klingsim")
    if marker is None:
        return {}
    if marker.args:
        pytest.fail(
            f"@pytest.mark.klingsim takes keyword-only options ({', '.join(MARKER_OPTIONS)}); "
            f"got positional {marker.args!r}",
            pytrace=False,
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_OPTIONS))
    if unknown:
        pytest.fail(
            f"@pytest.mark.klingsim: unknown option(s) {unknown}; known: {', '.join(MARKER_OPTIONS)}",
            pytrace=False,
        )
    return dict(marker.kwargs)


def _apply_marker(handle: KlingsimHandle, options: dict[str, Any]) -> None:
    from decimal import Decimal

    provider = options.get("provider")
    if provider is not None and provider not in handle.sim.runtimes:
        valid = ", ".join(handle.sim.runtimes)
        pytest.fail(f"@pytest.mark.klingsim: unknown provider {provider!r}; valid: {valid}", pytrace=False)
    handle.default_provider = provider
    if options.get("balance") is not None:
        amount = Decimal(str(options["balance"]))
        targets = [provider] if provider else list(handle.sim.runtimes)
        for pid in targets:
            handle.sim.runtimes[pid].default_balance = amount
    for fault in options.get("faults") or ():
        if isinstance(fault, dict) and "provider" not in fault and provider:
            handle.add_fault({"provider": provider, **fault})
        else:
            handle.add_fault(fault)


@pytest.fixture
def klingsim(request: pytest.FixtureRequest) -> Iterator[KlingsimHandle]:
    """An in-process simulator on a virtual clock; httpx and requests traffic to provider hosts goes to it."""
    from klingsim.core.clock import VirtualClock
    from klingsim.core.simulator import Simulator
    from klingsim.providers import ALL
    from klingsim.server.app import KlingsimApp
    from klingsim_contracts.handle import KlingsimHandle
    from klingsim_contracts.routing import TrafficRouter

    options = _marker_options(request)
    sim = Simulator(ALL, VirtualClock(), seed=0)
    router = TrafficRouter(KlingsimApp(sim), ALL)
    handle = KlingsimHandle(sim, router)
    _apply_marker(handle, options)
    request.node.stash[HANDLE] = handle
    with router, handle.watching_real_sleeps():
        yield handle
    problems = list(handle.problems())
    if problems:
        pytest.fail("klingsim found problems:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def klingsim_server(pytestconfig: pytest.Config) -> Iterator[KlingsimHandle]:
    """The simulator (every provider under /<id>) on a free loopback port, for subprocesses and other
    languages: the same handle as `klingsim` (`.advance()`, `.set_balance()`, `.fail_next()`, `.requests`,
    `.reset()`) plus `.url`. Its clock is virtual (moved by `.advance()`) unless
    `--klingsim-server-clock real [--klingsim-server-speed N]` makes it run by itself."""
    from klingsim.core.clock import Clock, RealClock, VirtualClock
    from klingsim.core.simulator import Simulator
    from klingsim.providers import ALL
    from klingsim.server.app import KlingsimApp
    from klingsim.server.run import ThreadedServer
    from klingsim_contracts.handle import KlingsimHandle

    mode = pytestconfig.getoption("--klingsim-server-clock", "virtual") or "virtual"
    speed = float(pytestconfig.getoption("--klingsim-server-speed", 1.0) or 1.0)
    if speed <= 0:
        raise pytest.UsageError(f"--klingsim-server-speed must be above 0, got {speed:g}")
    clock: Clock = VirtualClock() if mode == "virtual" else RealClock(speed)
    sim = Simulator(ALL, clock, seed=0)
    with ThreadedServer(KlingsimApp(sim)) as server:
        yield KlingsimHandle(sim, None, server.url)


@pytest.fixture
def klingsim_check_client(request: pytest.FixtureRequest) -> Callable[..., ClientReport]:
    """`klingsim_check_client(run, provider=...)`: the client suite; fails the test with its report."""
    from klingsim.server.app import KlingsimApp
    from klingsim_contracts.client import check_client

    default_provider = _marker_options(request).get("provider") or request.config.getoption(
        "--klingsim-provider", None
    )

    def check(run: Callable[..., Any], *, provider: str | None = None, **options: Any) -> ClientReport:
        chosen = provider or default_provider
        if not chosen:
            raise pytest.UsageError("klingsim_check_client needs provider=... (or the marker's provider)")
        report = check_client(run, provider=chosen, make_app=KlingsimApp, **options)
        if not report.ok:
            pytest.fail(report.text(), pytrace=False)
        return report

    return check
