"""Run time of the default gateway suite per provider, against klingsim in process and over HTTP.

Usage: python benchmarks/bench_gateway.py [--max-examples N] [--provider ID ...]
Target (issue 6): at most 60 s per provider with the default example count on a 2-core machine.
"""

from __future__ import annotations

import argparse
import time

from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL
from klingsim.server.app import KlingsimApp
from klingsim.server.run import ThreadedServer
from klingsim_contracts.runner import DEFAULT_MAX_EXAMPLES, run_gateway_suite
from klingsim_contracts.targets import AsgiTarget


def _app() -> KlingsimApp:
    return KlingsimApp(Simulator(ALL, VirtualClock(), seed=0))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES)
    parser.add_argument("--provider", action="append")
    args = parser.parse_args()
    providers = args.provider or [spec.id for spec in ALL]
    print(f"{'provider':<12} {'mode':<11} {'rules':>5} {'passed':>6} {'failed':>6} {'n/e':>4} {'seconds':>8}")
    for provider in providers:
        app = _app()
        target, control = AsgiTarget(app, f"http://testserver/{provider}"), AsgiTarget(app)
        started = time.perf_counter()
        report = run_gateway_suite(provider, target, upstream_control=control, max_examples=args.max_examples)
        _row(provider, "in-process", report, time.perf_counter() - started)
        target.close()
        control.close()
        # A plain run (no upstream control): the cost estimate's dry run, then the rules that spend nothing.
        target = AsgiTarget(_app(), f"http://testserver/{provider}")
        started = time.perf_counter()
        report = run_gateway_suite(provider, target, max_examples=args.max_examples)
        _row(provider, "plain", report, time.perf_counter() - started)
        target.close()
        with ThreadedServer(_app()) as server:
            started = time.perf_counter()
            report = run_gateway_suite(
                provider,
                f"{server.url}/{provider}",
                upstream_control=server.url,
                max_examples=args.max_examples,
            )
            _row(provider, "http", report, time.perf_counter() - started)


def _row(provider: str, mode: str, report: object, seconds: float) -> None:
    from klingsim_contracts.report import Report, Verdict

    assert isinstance(report, Report)
    print(
        f"{provider:<12} {mode:<11} {len(report.results):>5} {report.count(Verdict.PASSED):>6} "
        f"{report.count(Verdict.FAILED):>6} {report.count(Verdict.NOT_EXERCISED):>4} {seconds:>8.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
