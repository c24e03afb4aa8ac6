"""Command line: klingsim serve | providers | openapi ID | inferred | check client | check gateway."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any


def _serve(args: argparse.Namespace) -> int:
    from klingsim.server.run import ServeOptions, serve

    return serve(
        ServeOptions(
            host=args.host,
            port=args.port,
            provider=args.provider,
            clock=args.clock,
            speed=args.speed,
            seed=args.seed,
            strict_keys=args.strict_keys,
            db=args.db,
            scenario=args.scenario,
            allow_http_callbacks=args.allow_http_callbacks,
            journal_size=args.journal_size,
            max_finished_jobs=args.max_finished_jobs,
        )
    )


def _packed(items: Sequence[str], width: int = 96) -> list[str]:
    """Comma-separated items on lines of at most `width` characters, never breaking an item."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += ", " + item
        else:
            lines.append(item)
    return [line + ("," if i < len(lines) - 1 else "") for i, line in enumerate(lines)]


def _providers(_: argparse.Namespace) -> int:
    """Each provider: where it is mounted, its routes, models and the pages it is built from."""
    from klingsim.providers import ALL

    for spec in ALL:
        mount = f"/{spec.id}"
        print(f"{spec.id}: {spec.title}")
        rows = [("mount", [f"{mount}  (real API: {spec.base_url}; OpenAPI: {mount}/openapi.json)"])]
        rows.append(("routes", _packed([f"{e.method} {mount}{e.path}" for e in spec.endpoints])))
        rows.append(("models", _packed(list(spec.models))))
        rows.append(("sources", [doc.cite() for doc in spec.docs]))
        for name, lines in rows:
            for i, line in enumerate(lines):
                print(f"  {name if i == 0 else '':<9}{line}")
        print()
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from klingsim.core.openapi import openapi_document
    from klingsim.providers import by_id

    try:
        spec = by_id(args.provider)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    print(json.dumps(openapi_document(spec), indent=2, ensure_ascii=False))
    return 0


def _inferred(args: argparse.Namespace) -> int:
    from pathlib import Path

    from klingsim.inferred import render_inferred

    text = render_inferred()
    if args.check:
        current = Path(args.check).read_text(encoding="utf-8") if Path(args.check).exists() else ""
        if current != text:
            print(f"{args.check} is out of date; run `make docs`", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


def _check_client(args: argparse.Namespace) -> int:
    """Run a client program once per scenario against a loopback simulator and judge what it sent."""
    from collections.abc import Iterator
    from contextlib import contextmanager
    from pathlib import Path
    from typing import cast

    from klingsim.providers import by_id
    from klingsim.server.app import KlingsimApp
    from klingsim.server.run import ThreadedServer
    from klingsim_contracts.client import check_command

    command = list(args.command_line)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("klingsim check client: give the client command after --", file=sys.stderr)
        return 2
    from klingsim_contracts.coverage import require

    try:
        require(by_id(args.provider))
    except (KeyError, ValueError) as exc:
        print(exc.args[0], file=sys.stderr)
        return 2

    @contextmanager
    def serve(app: Any) -> Iterator[str]:
        # The recorder wraps the simulator's app; ThreadedServer only hands it to uvicorn (any ASGI app).
        with ThreadedServer(cast(KlingsimApp, app)) as server:
            yield server.url

    report = check_command(
        command,
        provider=args.provider,
        make_app=KlingsimApp,
        serve=serve,
        scenarios=args.scenario or None,
        speed=args.speed,
        retry_after=args.retry_after,
        min_poll_interval=args.min_poll_interval,
        timeout=args.timeout,
    )
    print(report.text())
    if args.junit:
        Path(args.junit).write_text(report.junit(), encoding="utf-8")
    return 0 if report.ok else 1


def _check_gateway(args: argparse.Namespace) -> int:
    """Run the gateway contract suite against a server claiming to implement a provider's API."""
    from pathlib import Path

    from klingsim.providers import by_id
    from klingsim_contracts.coverage import require
    from klingsim_contracts.report import Result, Verdict
    from klingsim_contracts.runner import run_gateway_suite

    try:
        require(by_id(args.provider))
    except (KeyError, ValueError) as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    marks = {Verdict.PASSED: "ok  ", Verdict.FAILED: "FAIL", Verdict.NOT_EXERCISED: "--  "}

    def progress(result: Result) -> None:
        note = f" ({result.reason})" if result.reason else ""
        print(f"  {marks[result.verdict]} {result.rule.id}{note}", file=sys.stderr, flush=True)

    print(f"klingsim check gateway: {args.provider} at {args.target}", file=sys.stderr, flush=True)
    report = run_gateway_suite(
        args.provider,
        args.target,
        api_key=args.api_key,
        upstream_control=args.upstream_control,
        max_examples=args.max_examples,
        seed=args.seed,
        progress=progress,
    )
    print(report.text())
    if args.junit:
        Path(args.junit).write_text(report.junit(), encoding="utf-8")
    return 0 if report.ok else 1


def _check_group(sub: Any) -> Any:
    """The `check` command's own subcommands (gateway, client), created once whoever adds to it first."""
    existing = sub.choices.get("check")
    if existing is not None:
        for action in existing._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action
    check = sub.add_parser("check", help="run a contract suite against a gateway or a client")
    return check.add_subparsers(dest="check_command", required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="klingsim", description="Simulator of the Kling O3 / 3.0 video APIs"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the simulator as an HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--provider", help="also serve this provider at / (a real SDK needs only a base-URL change)"
    )
    serve.add_argument("--clock", choices=("real", "virtual"), default="real")
    serve.add_argument(
        "--speed", type=float, default=1.0, help="real clock speed factor (60: a minute a second)"
    )
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument(
        "--strict-keys", action="store_true", help="accept only keys created on the control plane"
    )
    serve.add_argument("--db", metavar="PATH", help="keep jobs, ledgers and callbacks in this SQLite file")
    serve.add_argument("--scenario", metavar="FILE", help="preload accounts, faults, limits, clock (TOML)")
    serve.add_argument(
        "--allow-http-callbacks",
        action="store_true",
        help="also accept http:// and loopback callback receivers (local tests only)",
    )
    serve.add_argument(
        "--journal-size", type=int, default=10_000, help="requests kept in the journal (/_klingsim/requests)"
    )
    serve.add_argument(
        "--max-finished-jobs",
        type=int,
        default=100_000,
        help="finished jobs kept in memory; the oldest beyond it are evicted",
    )
    serve.set_defaults(func=_serve)

    providers = sub.add_parser("providers", help="list providers, mount paths, models and doc sources")
    providers.set_defaults(func=_providers)

    openapi = sub.add_parser("openapi", help="print a provider's OpenAPI document")
    openapi.add_argument("provider")
    openapi.set_defaults(func=_openapi)

    inferred = sub.add_parser("inferred", help="print the page of inferred behaviours (docs/inferred.md)")
    inferred.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from what would be printed")
    inferred.set_defaults(func=_inferred)

    check = _check_group(sub)
    client = check.add_parser(
        "client",
        help="run a client program once per scenario and judge what it sent",
        description="Runs COMMAND once per scenario with KLINGSIM_BASE_URL, KLINGSIM_API_KEY and "
        "KLINGSIM_REQUEST (the JSON body to submit) in its environment; exit status 0 claims success.",
    )
    client.add_argument("--provider", required=True, help="provider id the client calls")
    client.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    client.add_argument("--scenario", action="append", help="run only this scenario (repeatable)")
    client.add_argument(
        "--speed", type=float, default=60.0, help="simulated seconds per real second (60: a minute a second)"
    )
    client.add_argument(
        "--retry-after", type=int, default=1, help="Retry-After (real seconds) the 429 scenario announces"
    )
    client.add_argument(
        "--min-poll-interval", type=float, default=1.0, help="fastest acceptable polling (real seconds)"
    )
    client.add_argument("--timeout", type=float, default=120.0, help="seconds one run may take")
    client.add_argument("command_line", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG...]")
    client.set_defaults(func=_check_client)
    gateway = check.add_parser(
        "gateway",
        help="check a server that claims to implement a provider's API, rule by rule",
        description="Runs the provider's rule catalogue (schemathesis, property rules, the lifecycle and "
        "ledger state machine) against TARGET; rules needing time, money or faults run only with "
        "--upstream-control (the klingsim server the gateway uses upstream) and are otherwise reported "
        "not exercised. Exit 1 on any failure, a drained account, or nothing exercised.",
    )
    gateway.add_argument("--provider", required=True, help="provider id the gateway implements")
    gateway.add_argument(
        "--target", required=True, help="the gateway's base URL (where the provider's paths start)"
    )
    gateway.add_argument("--api-key", help="API key to send (default: the provider's example key)")
    gateway.add_argument(
        "--upstream-control", metavar="URL", help="base URL of the klingsim server behind the gateway"
    )
    gateway.add_argument("--max-examples", type=int, default=25, help="random examples per property rule")
    gateway.add_argument("--seed", type=int, default=0, help="seed for every random choice (rerun with it)")
    gateway.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    gateway.set_defaults(func=_check_gateway)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
