"""Command line: klingsim serve | providers | openapi ID | inferred | check client | check gateway."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from typing import Any

# The client suite's scenarios (klingsim_contracts.client.scenarios.SCENARIOS; a test keeps the two equal):
# named here so `check client --help` lists them without importing the kit.
CLIENT_SCENARIOS = (
    ("success", "the job renders and the output downloads"),
    ("failed_job", "the job runs and fails"),
    ("rate_limited", "the first create is refused with 429 and a Retry-After header"),
    ("server_error_on_create", "the first create is processed but the client gets a 5xx"),
    ("server_error_on_poll", "the first status request is answered with a 5xx"),
    ("insufficient_credits", "the account has no credits"),
    ("slow_job", "the render takes 7 minutes of virtual time"),
    ("expired_output", "the output URL has expired by the time the client downloads it"),
    ("too_many_jobs", "the first create is refused: too many unfinished jobs (kling 1303, fal 429)"),
    ("stuck_job", "the render never finishes: the client gives up and cancels (fal)"),
)


def _serve(args: argparse.Namespace) -> int:
    # Start-up makes no garbage cycles (server.gcpolicy), so the collector is off until the served simulator's
    # policy takes over: collections during the imports cost ~3 % of the start, for nothing.
    gc.disable()
    try:
        return _serve_with(args)
    finally:
        gc.enable()


def _serve_with(args: argparse.Namespace) -> int:
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
            strict_fields=args.strict_fields,
            log_format=args.log_format,
            quiet=args.quiet,
            cors=args.cors,
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
    from klingsim_contracts.client.inputs import require
    from klingsim_contracts.client.scenarios import by_name

    try:
        require(by_id(args.provider))
        by_name(args.scenario)
    except (KeyError, ValueError) as exc:
        print(f"klingsim check client: {exc.args[0]}", file=sys.stderr)
        return 2
    if (args.timeout is not None and args.timeout <= 0) or args.timeout_factor <= 0:
        print("klingsim check client: --timeout and --timeout-factor must be above 0", file=sys.stderr)
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
        timeout_factor=args.timeout_factor,
    )
    print(report.text())
    if args.junit:
        Path(args.junit).write_text(report.junit(), encoding="utf-8")
    if not any(not r.not_exercised for r in report.results):
        return 2  # nothing was exercised: the run could not judge the client
    return 0 if report.ok else 1


def _check_gateway(args: argparse.Namespace) -> int:
    """Run the gateway contract suite against a server claiming to implement a provider's API.

    Exit 0: every exercised rule passed; 1: a rule failed; 2: the run could not judge (a usage mistake, an
    unreachable target, nothing exercised)."""
    from decimal import Decimal, InvalidOperation
    from pathlib import Path

    from klingsim.providers import by_id
    from klingsim_contracts.report import Result, Verdict
    from klingsim_contracts.runner import run_gateway_suite

    try:
        spec = by_id(args.provider)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    if args.secret_key is not None and spec.auth.signed is None:
        print(
            f"klingsim check gateway: {args.provider} keys do not sign their requests; "
            "--secret-key is for kling",
            file=sys.stderr,
        )
        return 2
    try:
        budget = Decimal(args.budget) if args.budget is not None else None
    except InvalidOperation:
        budget = Decimal(-1)
    if budget is not None and (not budget.is_finite() or budget < 0):
        print(f"klingsim check gateway: --budget must be a number >= 0, got {args.budget!r}", file=sys.stderr)
        return 2
    if budget is not None and args.yes_spend:
        print("klingsim check gateway: give --budget or --yes-spend, not both", file=sys.stderr)
        return 2
    marks = {Verdict.PASSED: "ok  ", Verdict.FAILED: "FAIL", Verdict.NOT_EXERCISED: "--  "}

    def progress(result: Result) -> None:
        note = f" ({result.reason})" if result.reason else ""
        print(f"  {marks[result.verdict]} {result.rule.id}{note}", file=sys.stderr, flush=True)

    def notice(line: str) -> None:
        print(f"klingsim check gateway: {line}", file=sys.stderr, flush=True)

    notice(f"{args.provider} at {args.target}")
    try:
        report = run_gateway_suite(
            args.provider,
            args.target,
            api_key=args.api_key,
            secret_key=args.secret_key,
            upstream_control=args.upstream_control,
            max_examples=args.max_examples,
            seed=args.seed,
            rules=args.rule,
            budget=budget,
            yes_spend=args.yes_spend,
            run_id=args.run_id,
            progress=progress,
            notice=notice,
        )
    except KeyError as exc:
        print(f"klingsim check gateway: {exc.args[0]}", file=sys.stderr)
        return 2
    print(report.text())
    if args.junit:
        Path(args.junit).write_text(report.junit(), encoding="utf-8")
    return report.exit_code


def _check_group(sub: Any) -> Any:
    """The `check` command's own subcommands (gateway, client), created once whoever adds to it first."""
    existing = sub.choices.get("check")
    if existing is not None:
        for action in existing._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action
    check = sub.add_parser("check", help="run a contract suite against a gateway or a client")
    return check.add_subparsers(dest="check_command", required=True)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from klingsim import __version__

    try:
        return version("klingsim")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return __version__


class _Version(argparse.Action):
    """argparse's `version` action, reading the version only when asked: importlib.metadata takes
    ~20-30 ms to load, on every start of `klingsim serve` otherwise."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show program's version number and exit")
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        parser._print_message(f"klingsim {_version()}\n", sys.stdout)
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="klingsim", description="Simulator of the Kling O3 / 3.0 video APIs"
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve",
        help="run the simulator as an HTTP server",
        description="Serve every provider under /<id>, the control plane under /_klingsim/ (docs at "
        "/_klingsim/docs, dashboard at /_klingsim/ui/), and log one line per request.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default: 8000)"
    )
    serve.add_argument(
        "--provider", help="also serve this provider at / (a real SDK needs only a base-URL change)"
    )
    serve.add_argument(
        "--clock",
        choices=("real", "virtual"),
        default="real",
        help="real: time passes (see --speed); virtual: time moves only on POST /_klingsim/clock/advance",
    )
    serve.add_argument(
        "--speed", type=float, default=1.0, help="real clock speed factor (60: a minute a second)"
    )
    serve.add_argument(
        "--seed", type=int, default=0, help="seed for job ids, render durations and fault rates (default: 0)"
    )
    serve.add_argument(
        "--strict-keys", action="store_true", help="accept only keys created on the control plane"
    )
    serve.add_argument(
        "--strict-fields",
        action="store_true",
        help="refuse unknown body fields with the provider's validation error (default: ignore them, "
        "as the providers do, with an X-Klingsim-Hint header)",
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
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="request log lines on stdout: text (default) or json, one object a line",
    )
    serve.add_argument("--quiet", action="store_true", help="no request log (the banner only)")
    serve.add_argument(
        "--cors",
        metavar="ORIGINS",
        help="let browser apps of these origins call the server (comma-separated, or *)",
    )
    serve.set_defaults(func=_serve)

    providers = sub.add_parser("providers", help="list providers, mount paths, models and doc sources")
    providers.set_defaults(func=_providers)

    openapi = sub.add_parser("openapi", help="print a provider's OpenAPI document")
    openapi.add_argument("provider", help="provider id (see `klingsim providers`)")
    openapi.set_defaults(func=_openapi)

    inferred = sub.add_parser("inferred", help="print the page of inferred behaviours (docs/inferred.md)")
    inferred.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from what would be printed")
    inferred.set_defaults(func=_inferred)

    check = _check_group(sub)
    _add_check_client(check)
    _add_check_gateway(check)
    return parser


def _add_check_client(check: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    client = check.add_parser(
        "client",
        help="run a client program once per scenario and judge what it sent",
        description="Runs COMMAND once per scenario with KLINGSIM_BASE_URL, KLINGSIM_API_KEY, "
        "KLINGSIM_REQUEST (the JSON body to submit) and KLINGSIM_CREATE_PATH (where to POST it: Kling's "
        "/v1/videos/<kind>, fal's /<model id>) in its environment, and for kling KLINGSIM_SECRET_KEY (the "
        "SecretKey to sign its JWTs with); exit status 0 claims success.",
        epilog="scenarios (too_many_jobs and stuck_job only where the provider has that feature):\n"
        + "\n".join(f"  {name:<24}{what}" for name, what in CLIENT_SCENARIOS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    client.add_argument("--provider", required=True, help="provider id the client calls")
    client.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    client.add_argument(
        "--scenario",
        action="append",
        choices=[name for name, _ in CLIENT_SCENARIOS],
        metavar="NAME",
        help="run only this scenario (repeatable; listed below)",
    )
    client.add_argument(
        "--speed", type=float, default=60.0, help="simulated seconds per real second (60: a minute a second)"
    )
    client.add_argument(
        "--retry-after", type=int, default=1, help="Retry-After (real seconds) the 429 scenario announces"
    )
    client.add_argument(
        "--min-poll-interval", type=float, default=1.0, help="fastest acceptable polling (real seconds)"
    )
    client.add_argument(
        "--timeout",
        type=float,
        help="seconds one run may take (default: --timeout-factor times the scenario's expected wall time, "
        "at least 10 s)",
    )
    client.add_argument(
        "--timeout-factor",
        type=float,
        default=3.0,
        help="default timeout as a multiple of the scenario's slowest simulated render at --speed",
    )
    client.add_argument(
        "command_line",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND [ARG...]",
        help="the client program to run, after --",
    )
    client.set_defaults(func=_check_client)


def _add_check_gateway(check: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gateway = check.add_parser(
        "gateway",
        help="check a server that claims to implement a provider's API, rule by rule",
        description="Runs the provider's rule catalogue (schemathesis, property rules, the lifecycle and "
        "ledger state machine) against TARGET; rules needing time, money or faults run only with "
        "--upstream-control (the klingsim server the gateway uses upstream) and are otherwise reported "
        "not exercised. Without --upstream-control jobs may cost real money: the kit prints the run's "
        "estimated cost and runs only the rules that spend nothing, unless --budget or --yes-spend allows "
        "more. Exit 0: every exercised rule passed; 1: a rule failed; 2: the run could not judge (usage, "
        "unreachable target, nothing exercised).",
    )
    gateway.add_argument("--provider", required=True, help="provider id the gateway implements")
    gateway.add_argument(
        "--target", required=True, help="the gateway's base URL (where the provider's paths start)"
    )
    gateway.add_argument("--api-key", help="API key to send (default: the provider's example key)")
    gateway.add_argument(
        "--secret-key",
        help="kling: the SecretKey of --api-key (an AccessKey); the kit signs a JWT for every request "
        "with it (default: with --api-key, the spec's example secret; without, the run key's own secret)",
    )
    gateway.add_argument(
        "--upstream-control", metavar="URL", help="base URL of the klingsim server behind the gateway"
    )
    gateway.add_argument("--max-examples", type=int, default=25, help="random examples per property rule")
    gateway.add_argument("--seed", type=int, default=0, help="seed for every random choice (rerun with it)")
    gateway.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    gateway.add_argument(
        "--budget",
        metavar="AMOUNT",
        help="without --upstream-control: spend at most AMOUNT (in the provider's price unit) through the "
        "target; rules that would spend more are not exercised (default 0)",
    )
    gateway.add_argument(
        "--yes-spend",
        action="store_true",
        help="without --upstream-control: run every rule, whatever it costs",
    )
    gateway.add_argument(
        "--rule", action="append", metavar="ID", help="run only this rule (repeatable; ids as in the report)"
    )
    gateway.add_argument(
        "--run-id",
        help="names this run's fresh API key (default: random; the key derives from seed + run id)",
    )
    gateway.set_defaults(func=_check_gateway)


def _used_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)command parser that read the arguments, so its usage goes with an error."""
    for name in ("command", "check_command"):
        chosen = getattr(args, name, None)
        action = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if chosen is None or action is None or chosen not in action.choices:
            break
        parser = action.choices[chosen]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        _used_parser(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
