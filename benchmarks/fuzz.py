"""`make fuzz`: schemathesis against a real `klingsim serve`, N minutes per provider; 0 server errors wanted.

For each provider, schemathesis fuzzes its OpenAPI (`/<provider>/openapi.json`) with the example key for
`--minutes` (default 10), checking `not_a_server_error`. Meanwhile a driver thread moves the virtual clock
on (so jobs run, finish and expire), keeps the key's balance topped up, and reads the request journal.
Server errors are counted three ways: schemathesis' findings, 5xx statuses in the journal, and tracebacks
in the server's log. Rate limits are off (a scenario file) so the time goes to fuzzing, not to 429s.

    .venv/bin/python benchmarks/fuzz.py --minutes 10 [--providers kling3api,evolink]

Exit status 1 when any server error was seen.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from klingsim.providers import ALL

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Result:
    provider: str
    seconds: float
    requests: int
    journal_5xx: int
    driver_errors: int
    schemathesis_rc: int
    summary: str


class Driver(threading.Thread):
    """Moves the clock, tops up the balance, and counts 5xx in the journal while a provider is fuzzed."""

    def __init__(self, base: str, provider: str, key: str) -> None:
        super().__init__(daemon=True)
        self.base, self.provider, self.key = base, provider, key
        self.stop = threading.Event()
        self.since = 0
        self.requests = 0
        self.server_errors: list[str] = []
        self.driver_errors: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as http:
            while not self.stop.wait(2.0):
                self.safe_step(http)
            self.safe_step(http)

    def safe_step(self, http: httpx.Client) -> None:
        try:
            self.step(http)
        except httpx.HTTPError as exc:  # a busy machine; counted, and the next step tries again
            self.driver_errors.append(f"{type(exc).__name__}: {exc}")

    def step(self, http: httpx.Client) -> None:
        http.post("/_klingsim/clock/advance", json={"seconds": 120})
        http.put(f"/_klingsim/accounts/{self.provider}/{self.key}", json={"balance": 1_000_000_000})
        journal = http.get("/_klingsim/requests", params={"since": self.since}).json()["requests"]
        for entry in journal:
            self.since = max(self.since, entry["seq"])
            if entry["provider"] == self.provider:
                self.requests += 1
            if entry["status"] >= 500:
                self.server_errors.append(f"{entry['status']} {entry['method']} {entry['path']}")


def fuzz(base: str, provider: str, key: str, minutes: float, seed: int) -> Result:
    driver = Driver(base, provider, key)
    driver.start()
    started = time.perf_counter()
    command = [
        str(BIN / "st"),
        "run",
        f"{base}/{provider}/openapi.json",
        "--url",
        f"{base}/{provider}",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        "not_a_server_error",
        "--max-time",
        str(int(minutes * 60)),
        "--max-examples",
        "1000000",
        "--continue-on-failure",
        "--seed",
        str(seed),
        "--no-color",
    ]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    driver.stop.set()
    driver.join()
    lines = [ln for ln in run.stdout.splitlines() if re.search(r"\d+ (passed|failed|errored)|No issues", ln)]
    return Result(
        provider,
        time.perf_counter() - started,
        driver.requests,
        len(driver.server_errors),
        len(driver.driver_errors),
        run.returncode,
        (lines[-1].strip() if lines else run.stdout[-400:].strip()) or run.stderr[-400:],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="fuzzing time per provider")
    parser.add_argument("--providers", default=",".join(s.id for s in ALL), help="comma-separated ids")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    specs = {s.id: s for s in ALL}
    chosen = [p for p in args.providers.split(",") if p]
    unknown = [p for p in chosen if p not in specs]
    if unknown:
        parser.error(f"unknown providers {unknown}; known: {', '.join(specs)}")
    scenario = Path(tempfile.mkdtemp(prefix="klingsim-fuzz-")) / "fuzz.toml"
    limits = "\n".join(f"{p} = false" for p in specs)
    scenario.write_text(f'[simulator]\nclock = "virtual"\n\n[rate_limits]\n{limits}\n')
    port = free_port()
    log = scenario.with_name("server.log").open("w+")
    server = subprocess.Popen(
        [str(BIN / "klingsim"), "serve", "--port", str(port), "--scenario", str(scenario), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert server.stdout is not None
    server.stdout.readline()  # the banner: the socket listens
    base = f"http://127.0.0.1:{port}"
    results: list[Result] = []
    try:
        for provider in chosen:
            result = fuzz(base, provider, specs[provider].auth.example_key, args.minutes, args.seed)
            results.append(result)
            print(
                f"{provider:<12} {result.seconds:6.0f} s  {result.requests:7d} requests  "
                f"5xx in journal: {result.journal_5xx}  (driver retries: {result.driver_errors})  "
                f"schemathesis exit {result.schemathesis_rc}: "
                f"{result.summary}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
    log.seek(0)
    tracebacks = log.read().count("Traceback")
    log.close()
    print(f"server tracebacks: {tracebacks}; server log: {scenario.with_name('server.log')}")
    bad = tracebacks or any(r.journal_5xx or r.schemathesis_rc for r in results)
    print("server errors: " + ("SOME (see above)" if bad else "0"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
