"""Run the simulator over HTTP with uvicorn: in the foreground (CLI) or in a thread (tests, plugin)."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import socket
import sqlite3
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvicorn

from klingsim.core import restart
from klingsim.core.clock import Clock, RealClock, VirtualClock
from klingsim.core.journal import DEFAULT_SIZE
from klingsim.core.simulator import Simulator
from klingsim.core.store import SqliteStore, StoreLocked
from klingsim.core.worker import Ticker
from klingsim.providers import ALL
from klingsim.server import gcpolicy
from klingsim.server.app import KlingsimApp
from klingsim.server.connections import (
    DEFAULT_MAX_CONNECTIONS,
    Hygiene,
    connection_cap,
    guarded_protocol,
    raise_descriptor_limit,
)
from klingsim.server.fastpath import fast_protocol
from klingsim.server.requestlog import RequestLog

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from klingsim.core.scenario import Scenario


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    provider: str | None = None
    clock: str = "real"
    speed: float = 1.0
    seed: int = 0
    strict_keys: bool = False
    db: str | None = None
    scenario: str | None = None
    allow_http_callbacks: bool = False
    journal_size: int = DEFAULT_SIZE
    max_finished_jobs: int = 100_000
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    strict_fields: bool = False
    log_format: str = "text"
    quiet: bool = False
    cors: str | None = None  # comma-separated origins, or *


class ServeError(Exception):
    """A mistake in how the server was asked to start, with the fix in its message."""


def open_store(path: str) -> SqliteStore:
    try:
        return SqliteStore(path)
    except StoreLocked:
        raise
    except (sqlite3.Error, OSError) as exc:
        raise ServeError(
            f"cannot open the database {path!r} ({exc}); check that its folder exists and is writable"
        ) from None


def _with_scenario(options: ServeOptions, scenario: Scenario) -> ServeOptions:
    """The scenario's [simulator] values fill the options the command line left at their defaults."""
    defaults = ServeOptions()
    chosen = {
        key: value
        for key, value in scenario.options.items()
        if getattr(options, key) == getattr(defaults, key)
    }
    return dataclasses.replace(options, **chosen)


def build(options: ServeOptions) -> KlingsimApp:
    scenario: Scenario | None = None
    if options.scenario:
        from klingsim.core.scenario import load_scenario  # TOML and scenarios: only when asked for

        scenario = load_scenario(options.scenario)
    if scenario is not None:
        options = _with_scenario(options, scenario)
        scenario.check_providers(s.id for s in ALL)
    clock: Clock = VirtualClock() if options.clock == "virtual" else RealClock(options.speed)
    sim = Simulator(
        ALL,
        clock,
        seed=options.seed,
        strict_keys=options.strict_keys,
        strict_fields=options.strict_fields,
        allow_http_callbacks=options.allow_http_callbacks,
        journal_size=options.journal_size,
        max_finished_jobs=options.max_finished_jobs,
        store=open_store(options.db) if options.db else None,
        default_rate_limit=scenario.default_rate_limit if scenario else None,
        rate_limits=scenario.rate_limits if scenario else None,
    )
    if scenario is not None:
        scenario.apply(sim)
    app = KlingsimApp(sim, options.provider)
    # What a reset goes back to: this clock time, and the scenario's accounts and faults.
    restart.remember(sim, (lambda: scenario.apply(sim)) if scenario is not None else None)
    return app


def banner(app: KlingsimApp, base: str) -> str:
    lines = [f"klingsim serving on {base} (clock: {app.sim.clock.mode})"]
    for pid in app.sim.runtimes:
        lines.append(f"  {pid:<12} {base}/{pid}   openapi: {base}/{pid}/openapi.json")
    if app.default_provider:
        lines.append(f"  {app.default_provider} also at {base}/")
    lines.append(f"  control plane  {base}/_klingsim/health   docs: {base}/_klingsim/docs")
    lines.append(f"  dashboard      {base}/_klingsim/ui/")
    spec = (
        app.sim.runtimes["kling3api"].spec
        if "kling3api" in app.sim.runtimes
        else next(iter(app.sim.runtimes.values())).spec
    )
    lines.append("Try:")
    lines.append(
        f"  curl -s -X POST {base}/kling3api/api/generate -H 'Authorization: Bearer {spec.auth.example_key}' "
        "-H 'Content-Type: application/json' "
        '-d \'{"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains at sunrise"}\''
    )
    return "\n".join(lines)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening socket: connections queue from this moment, before the server loop starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP; without it each
    # answer (headers, then body) waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, or a ServeError naming the address and the fix."""
    try:
        return listening_socket(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use; stop what is using it or choose another with "
                f"--port (--port 0 picks a free one)"
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ServeError(
                f"not allowed to listen on port {port}; choose one above 1023 with --port"
            ) from None
        raise ServeError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); check --host and --port"
        ) from None


def with_cors(app: KlingsimApp, origins: str | None) -> ASGIApp:
    """The app, answering browsers of these origins (comma-separated, or *) when --cors is given."""
    if not origins:
        return app
    from starlette.middleware.cors import CORSMiddleware  # only when asked for: keeps a plain start light

    allowed = [o.strip() for o in origins.split(",") if o.strip()]
    return CORSMiddleware(
        app,
        allow_origins=allowed,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["x-klingsim-hint", "retry-after", "x-klingsim-fault"],
    )


def _start_errors() -> tuple[type[Exception], ...]:
    """The mistakes `serve` reports in one line (evaluated only when something went wrong)."""
    from klingsim.core.scenario import ScenarioError

    return (KeyError, ServeError, ScenarioError, OSError, sqlite3.Error, StoreLocked)


def serve(options: ServeOptions) -> int:
    try:
        app = build(options)
        sock = listen(options.host, options.port)
    except _start_errors() as exc:
        print(f"klingsim: {exc.args[-1]}", file=sys.stderr)
        return 2
    if not options.quiet:
        app.on_request = RequestLog(app.sim, options.log_format)
    port = sock.getsockname()[1]
    raise_descriptor_limit()
    hygiene = Hygiene(max_connections=connection_cap(options.max_connections))
    # The CORS middleware adds headers to every answer: with it, every request takes the ASGI path.
    protocol = guarded_protocol(hygiene, "auto" if options.cors else fast_protocol(app.answer))
    config = uvicorn.Config(with_cors(app, options.cors), log_level="warning", lifespan="off", http=protocol)
    # The banner is printed once the socket listens, so a reader of the first line can connect at once.
    print(banner(app, f"http://{options.host}:{port}"), flush=True)
    ticker = Ticker(app.sim).start()  # moves unpolled jobs on a real clock and delivers callbacks
    gcpolicy.apply()  # no collection pause that grows with the jobs held (see gcpolicy)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        ticker.stop()
        app.sim.store.close()
    return 0


class ThreadedServer:
    """The app on a free loopback port in a background thread; `url` is its base URL."""

    def __init__(
        self,
        app: KlingsimApp,
        host: str = "127.0.0.1",
        port: int = 0,
        hygiene: Hygiene | None = None,
        fast: bool = True,  # answer requests through server.fastpath (False: every request as ASGI)
    ) -> None:
        self.app = app
        sock = listening_socket(host, port)
        self._sock = sock
        self.url = f"http://{host}:{sock.getsockname()[1]}"
        self.hygiene = hygiene or Hygiene(max_connections=connection_cap())
        # Wrappers of the app (the client kit's recorder) see every request: they get the ASGI path.
        fast = fast and isinstance(app, KlingsimApp)
        protocol = guarded_protocol(self.hygiene, fast_protocol(app.answer) if fast else "auto")
        config = uvicorn.Config(app, log_level="warning", lifespan="off", http=protocol)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="klingsim-server", daemon=True)
        self._started = threading.Event()
        self._ticker = Ticker(app.sim)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> ThreadedServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("klingsim server thread died while starting")
            self._started.wait(0.01)
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._ticker.stop()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
