"""A million finished jobs within 500 MB (issue 14): held, or evicted by the documented, counted policy.

Creates `--jobs` kling3api jobs through `Simulator.handle` (auth, validation, pricing, ledger, journal: the
whole engine, without HTTP) on a virtual clock that runs each batch to its end, then prints the process's
RSS, how many finished jobs are held and how many were evicted (oldest finished first, beyond
`--max-finished-jobs`, default 100,000: see README "Persistence"), how many ledger entries of evicted jobs
were folded into the account's totals, and checks that the balance still equals the money in minus every
price (no credit lost or double-counted by eviction).

Usage: python benchmarks/bench_million.py [--jobs N] [--max-finished-jobs N]
Takes a few minutes for the default million (about 100-200 us of CPU per create).
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from decimal import Decimal

from klingsim.core.clock import VirtualClock
from klingsim.core.http import Request
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL

KEY = "k3a_bench_0123456789abcdef"
BODY = json.dumps(
    {"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains at sunrise", "duration": 5}
).encode()
LIMIT_MB = 500
START_BALANCE = Decimal(10**13)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--max-finished-jobs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000, help="creates between two clock advances")
    args = parser.parse_args()
    sim = Simulator(ALL, VirtualClock(), seed=0, max_finished_jobs=args.max_finished_jobs)
    sim.set_balance("kling3api", KEY, START_BALANCE)
    headers = {"host": "bench", "authorization": f"Bearer {KEY}", "content-type": "application/json"}
    req = Request("POST", "/api/generate", {}, headers, BODY, "http://bench")
    start_rss = _rss_mb()
    started = time.process_time()
    spent = Decimal(0)
    for done in range(0, args.jobs, args.batch):
        for _ in range(min(args.batch, args.jobs - done)):
            answer = sim.handle("kling3api", req)
            assert answer.status == 200, answer.body
            spent += Decimal(answer.body["data"]["consumed_credits"])
        sim.advance(600)  # longer than any kling3api render: the batch is finished
        if (done // args.batch) % 100 == 0:
            print(f"  {done + args.batch:>9,} jobs, RSS {_rss_mb():7.1f} MB", flush=True)
    cpu = time.process_time() - started
    gc.collect()
    rss = _rss_mb()
    account = sim.keys.account_of("kling3api", KEY) or KEY
    held = sum(1 for _ in sim.engine.jobs())
    balance = sim.ledger.balance("kling3api", account)
    problems = sim.ledger.inconsistencies()
    print(
        f"{args.jobs:,} jobs created and finished in {cpu:.0f} s of CPU ({cpu / args.jobs * 1e6:.0f} us each)"
    )
    print(f"held: {held:,} finished jobs (--max-finished-jobs {args.max_finished_jobs:,})")
    print(f"evicted (oldest finished first, counted): {sim.engine.evicted:,}")
    print(f"ledger entries of evicted jobs folded into totals: {sim.ledger.folded('kling3api', account):,}")
    print(f"balance {balance} = {START_BALANCE} - {spent} spent: {balance == START_BALANCE - spent}")
    print(f"ledger consistent: {not problems}")
    verdict = "OK" if rss <= LIMIT_MB else "OVER"
    print(f"RSS {rss:.1f} MB (start {start_rss:.1f} MB, limit {LIMIT_MB} MB): {verdict}")
    ok = rss <= LIMIT_MB and balance == START_BALANCE - spent and not problems
    print("PASS" if ok else "FAIL")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
