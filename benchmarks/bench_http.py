"""klingsim over HTTP against a bare FastAPI mock, side by side on this machine (`make bench-http`).

Starts `klingsim serve --provider kling3api` (real clock, a funded key) and `benchmarks/baseline_app.py`
(FastAPI + pydantic + a dict, on uvicorn with uvloop and httptools) and drives both with the same load
generator: wrk when it is installed (`apt-get install wrk`), else a bounded Python generator (keep-alive
connections on asyncio; slower than wrk, so its figures only compare servers with each other).

Both servers run at once, fresh for each round, and are measured in interleaved slices. A shared machine's
speed drifts (by 30-60 % over tens of seconds on a busy VM): measured one after the other, the same server
gave 3,441 and 4,634 creates/s a minute apart, so a ratio between two servers measured 13 s apart was mostly
noise. Interleaved slices expose both servers to the same drift. Per phase (creates, then status polls of one
job created after the creates), each server is warmed up (`--warmup` s each), then the measured load runs in
slices of `--slice` s in ABBA order (A B B A A B B A ...; A is the round's first server) until each server has
had `--duration` measured seconds. ABBA rather than ABAB gives both servers the same mean time in every four
slices, so a drift that is linear over them cancels out. Rounds rotate which server is A. Per server,
requests, seconds, bad answers and server CPU (/proc, read around each slice) are summed over its slices, and
the latency histograms of its slices are merged for p50/p99 (wrk prints its raw histogram; the Python
generator keeps every latency, in microseconds).

Each slice is a new wrk process, and wrk's first few hundred ms are slow to read answers (not the server: a
probe on its own connection saw no stall): measured here, eight 1 s runs gave a p99 of 50-67 ms where one
10 s run gave 6-10 ms. So every connection holds its first request for `--lead-in` s (0.5: p99 13-23 ms over
the same eight runs, like a long run), and only the rest of the slice is measured; the server idles meanwhile,
so its CPU per answer is unaffected. Hence slices of 2 s (1.5 s measured) rather than 1 s.

Printed per server: create and status req/s, the ratio to the baseline of the same round, p50/p99 latency,
server CPU (percent of one core) and CPU per answer, RSS after its last create slice and RSS growth per job
created in its measured slices (from before its first create slice to after its last; warm-up excluded).
Before the rounds, `klingsim serve` is started `--starts` times and timed from the start of its process to
its first answer (the banner is printed once the socket listens; then GET /_klingsim/health). Bytecode is
compiled first (`compileall`, as `pip install` does), so a checkout run with PYTHONDONTWRITEBYTECODE=1
does not time the compiler.

The last lines compare klingsim with the targets of issue 14 (the p99 target is for a 60 s run:
`--duration 60`).

    python benchmarks/bench_http.py [--rounds 2] [--duration 10] [--warmup 3] [--slice 1] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench_startup import compile_bytecode, free_port, start_seconds  # beside this file

HERE = Path(__file__).resolve().parent
KEY = "k3a_bench_0123456789abcdef"
CREATE_BODY = json.dumps(
    {"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains at sunrise", "duration": 5}
)
CREATE_PATH = "/api/generate"
STATUS_PATH = "/api/status?task_id="
# The bounded Python generator: it never opens more than this many connections or runs longer than asked.
MAX_PY_CONNECTIONS = 64
TICKS = os.sysconf("SC_CLK_TCK")
TARGETS = {
    "create_ratio": 1.3,
    "status_ratio": 1.5,
    "create_p99_ms": 10.0,
    "rss_per_job": 1024.0,
    "start_s": 0.3,
}


@dataclass
class Load:
    """What a load generator measured against one server, summed over its slices."""

    requests: int = 0
    seconds: float = 0.0
    bad: int = 0  # non-2xx answers and socket errors
    latency_us: Counter[int] = field(default_factory=Counter)  # microseconds -> answers

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile_ms(self.latency_us, 50)

    @property
    def p99_ms(self) -> float:
        return percentile_ms(self.latency_us, 99)

    def add(self, other: Load) -> None:
        self.requests += other.requests
        self.seconds += other.seconds
        self.bad += other.bad
        self.latency_us.update(other.latency_us)


def percentile_ms(histogram: Counter[int], percent: float) -> float:
    """wrk's percentile: the smallest value whose cumulative count reaches floor(p/100 * n) + 1."""
    total = histogram.total()
    if not total:
        return 0.0
    rank = min(total, math.floor(percent / 100 * total) + 1)
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value / 1000
    return 0.0  # not reached: the counts sum to total


@dataclass
class Phase:
    """One server's share of an interleaved phase."""

    load: Load = field(default_factory=Load)
    cpu: float = 0.0  # server CPU seconds during its slices
    rss_first: int = 0  # bytes, before its first slice
    rss_last: int = 0  # bytes, after its last slice


@dataclass
class Result:
    server: str
    create: Load
    status: Load
    create_cpu: float  # server CPU seconds during the measured creates
    status_cpu: float
    rss_mib: float  # after the creates
    rss_per_job: float  # bytes of RSS growth per job created in the measured slices
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------- servers
def server_command(name: str, port: int, python: str) -> list[str]:
    if name == "baseline":
        return [python, str(HERE / "baseline_app.py"), "--port", str(port)]
    return [python, "-m", "klingsim.cli", "serve", "--provider", "kling3api", "--port", str(port)]


def http(method: str, url: str, body: bytes | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(base: str, proc: subprocess.Popen[bytes], limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            http("GET", base + STATUS_PATH + "none", timeout=1.0)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server at {base} did not answer within {limit} s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


# ----------------------------------------------------------------- load generators
# done() prints the totals, then the raw latency histogram as "microseconds:count" pairs so the slices of a
# phase can be merged in Python. latency(i) is the i-th distinct value and its count (wrk's SCRIPTING); it
# scans the histogram from its minimum, so the dump costs distinct values x range (~0.1 s after a 1 s slice
# here; after the slice, so it is not measured). The histogram includes wrk's coordinated-omission correction
# (stats_correct: made-up samples for answers slower than twice the mean interval), as wrk's own percentiles
# do, so its count may exceed the requests.
# (latency[i] does not index the counts in Debian's wrk 4.1.0: it answers the key back.)
WRK_SCRIPT = """
wrk.method = "{method}"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["Content-Type"] = "application/json"
{body}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d\\n", summary.requests, summary.duration,
    e.status + e.connect + e.read + e.write + e.timeout))
  local buckets = {{}}
  for i = 1, #latency do
    local value, count = latency(i)
    buckets[i] = string.format("%d:%d", value, count)
  end
  io.write("LATENCY ", table.concat(buckets, " "), "\\n")
end
{lead_in}"""
# The first request of each connection waits out the lead-in: delay() is called before every request, and the
# first calls in a thread are for its connections' first requests. wrk times a request from when it is sent.
WRK_LEAD_IN = """
local held = {per_thread}
delay = function()
  if held > 0 then
    held = held - 1
    return {ms}
  end
  return 0
end
"""


def run_wrk(url: str, method: str, seconds: float, args: argparse.Namespace, lead_in: float = 0.0) -> Load:
    """`seconds` of load of which the first `lead_in` are not measured (see WRK_LEAD_IN)."""
    body = f"wrk.body = {json.dumps(CREATE_BODY)}" if method == "POST" else ""
    per_thread = -(-args.connections // args.threads)
    lead = WRK_LEAD_IN.format(per_thread=per_thread, ms=round(lead_in * 1000)) if lead_in else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(method=method, key=KEY, body=body, lead_in=lead))
    try:
        # wrk's -d takes whole seconds only: main() checks --slice and --warmup, slice_lengths() rounds up.
        command = [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{round(seconds)}s",
            "-s",
            script.name,
        ]
        done = subprocess.run(
            [*command, url], check=False, capture_output=True, text=True, timeout=seconds + 60
        )
        out = done.stdout
    finally:
        os.unlink(script.name)
    lines = out.splitlines()
    result = next((x for x in lines if x.startswith("RESULT ")), None)
    latency = next((x for x in lines if x.startswith("LATENCY")), None)
    if result is None or latency is None:
        raise RuntimeError(f"wrk printed no result:\n{out}{done.stderr}")
    requests, micros, bad = (int(x) for x in result.split()[1:])
    histogram: Counter[int] = Counter()
    for pair in latency.split()[1:]:
        value, _, count = pair.partition(":")
        histogram[int(value)] += int(count)
    return Load(requests, micros / 1e6 - lead_in, bad, histogram)


async def _py_connection(
    host: str,
    port: int,
    raw: bytes,
    window: tuple[float, float],
    latencies: list[float],
    counts: list[int],
) -> None:
    """Connects, holds its first request until window[0] (the lead-in), sends requests until window[1]."""
    measure_from, until = window
    reader, writer = await asyncio.open_connection(host, port)
    try:
        await asyncio.sleep(measure_from - time.perf_counter())
        while time.perf_counter() < until:
            start = time.perf_counter()
            writer.write(raw)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await asyncio.wait_for(reader.readexactly(length), 10)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 2"):
                counts[0] += 1
    except (OSError, asyncio.IncompleteReadError, TimeoutError):
        counts[0] += 1
    finally:
        writer.close()


def run_python(url: str, method: str, seconds: float, args: argparse.Namespace, lead_in: float = 0.0) -> Load:
    """A bounded keep-alive load generator for machines without wrk; the first `lead_in` s go unmeasured."""
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    body = CREATE_BODY.encode() if method == "POST" else b""
    raw = (
        f"{method} /{path} HTTP/1.1\r\nHost: {hostport}\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    counts = [0]

    async def main() -> float:
        start = time.perf_counter()
        window = (start + lead_in, start + seconds)
        conns = min(args.connections, MAX_PY_CONNECTIONS)
        await asyncio.gather(
            *(_py_connection(host, int(port), raw, window, latencies, counts) for _ in range(conns))
        )
        return time.perf_counter() - window[0]

    elapsed = asyncio.run(main())
    histogram = Counter(round(latency * 1e6) for latency in latencies)  # microseconds, as wrk's
    return Load(len(latencies), elapsed, counts[0], histogram)


# ----------------------------------------------------------------- one round
@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    base: str


def start_server(name: str, args: argparse.Namespace) -> Server:
    port = free_port()
    python = args.klingsim_python if name == "klingsim" else sys.executable
    proc = subprocess.Popen(
        server_command(name, port, python), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    return Server(name, proc, f"http://127.0.0.1:{port}")


def stop_servers(servers: list[Server]) -> dict[str, str]:
    """Stops every server (all signalled before any is waited for); returns what each wrote on stderr."""
    for server in servers:
        if server.proc.poll() is None:
            server.proc.terminate()
    errors = {}
    for server in servers:
        proc = server.proc
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errors[server.name] = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    return errors


def prepare(server: Server) -> None:
    wait_ready(server.base, server.proc)
    if server.name == "klingsim":
        code, answer = http(
            "PUT",
            f"{server.base}/_klingsim/accounts/kling3api/{KEY}",
            json.dumps({"balance": 10**12}).encode(),
        )
        if code != 200:
            raise RuntimeError(f"funding the bench key failed: {code} {answer!r}")


def slice_lengths(duration: float, length: float, lead_in: float, whole: bool) -> list[float]:
    """Slices of `length` seconds (the last shorter if it can be) whose measured parts (a slice less its
    lead-in) add up to at least `duration`; `whole`: each slice lasts whole seconds (wrk's -d)."""
    lengths: list[float] = []
    measured = 0.0
    while measured < duration - 1e-9:
        slice_ = min(length, duration - measured + lead_in)
        lengths.append(math.ceil(slice_ - 1e-9) if whole else slice_)
        measured += lengths[-1] - lead_in
    return lengths


LoadGenerator = Callable[[str, str, float, argparse.Namespace, float], Load]


def interleaved(
    servers: list[Server], urls: dict[str, str], method: str, args: argparse.Namespace
) -> dict[str, Phase]:
    """Each server gets `--duration` seconds of load in slices, in ABBA order (A = servers[0])."""
    load: LoadGenerator = run_wrk if args.loadgen == "wrk" else run_python
    phases = {server.name: Phase() for server in servers}
    lengths = slice_lengths(args.duration, args.slice, args.lead_in, args.loadgen == "wrk")
    for i, seconds in enumerate(lengths):
        for server in servers if i % 2 == 0 else servers[::-1]:
            pid = server.proc.pid
            phase = phases[server.name]
            if i == 0:
                phase.rss_first = rss_bytes(pid)
            cpu_start = cpu_seconds(pid)
            phase.load.add(load(urls[server.name], method, seconds, args, args.lead_in))
            phase.cpu += cpu_seconds(pid) - cpu_start
            if i == len(lengths) - 1:
                phase.rss_last = rss_bytes(pid)
    return phases


def warm_up(servers: list[Server], urls: dict[str, str], method: str, args: argparse.Namespace) -> None:
    load: LoadGenerator = run_wrk if args.loadgen == "wrk" else run_python
    if args.warmup > 0:
        for server in servers:
            load(urls[server.name], method, args.warmup, args, 0.0)


def polled_job(server: Server) -> str:
    code, answer = http("POST", server.base + CREATE_PATH, CREATE_BODY.encode())
    if code != 200:
        raise RuntimeError(f"{server.name} refused the bench create: {code} {answer!r}")
    task_id: str = json.loads(answer)["data"]["task_id"]
    return task_id


def measure_round(order: list[str], args: argparse.Namespace) -> dict[str, Result]:
    """Both servers running at once, each phase interleaved; the servers are stopped whatever happens."""
    servers: list[Server] = []
    finished = False
    try:
        for name in order:
            servers.append(start_server(name, args))
        for server in servers:
            prepare(server)
        urls = {server.name: server.base + CREATE_PATH for server in servers}
        warm_up(servers, urls, "POST", args)
        # RSS growth is counted from each server's first measured slice on: by then the fixed-size parts (the
        # request journal's ring, caches) are filled by the warm-up.
        creates = interleaved(servers, urls, "POST", args)
        # The polled jobs are created now: one created before a long create phase may have been evicted since
        # (klingsim keeps --max-finished-jobs finished jobs), and would answer 404.
        urls = {server.name: server.base + STATUS_PATH + polled_job(server) for server in servers}
        warm_up(servers, urls, "GET", args)
        statuses = interleaved(servers, urls, "GET", args)
        finished = True
    finally:
        errors = stop_servers(servers)
        if not finished:  # the exception on its way up may not say why a server failed; its stderr may
            for name, text in errors.items():
                if text.strip():
                    print(f"{name} stderr: {text.strip()[-2000:]}", file=sys.stderr)
    results = {}
    for name in order:
        create, status = creates[name], statuses[name]
        result = Result(
            name,
            create.load,
            status.load,
            create.cpu,
            status.cpu,
            create.rss_last / 2**20,
            (create.rss_last - create.rss_first) / max(create.load.requests, 1),
        )
        if create.load.bad or status.load.bad:
            result.notes.append(
                f"{name}: {create.load.bad} bad creates, {status.load.bad} bad status answers"
            )
        if errors[name].strip():
            result.notes.append(f"{name} stderr: {errors[name].strip()[-500:]}")
        results[name] = result
    return results


# ----------------------------------------------------------------- report
def cpu_us(cpu: float, load: Load) -> float:
    return 1e6 * cpu / load.requests if load.requests else 0.0


def row(r: Result, base: Result | None) -> str:
    cx = f"{r.create.rate / base.create.rate:.2f}" if base and base.create.rate else "-"
    sx = f"{r.status.rate / base.status.rate:.2f}" if base and base.status.rate else "-"
    return (
        f"| {r.server:<9} | {r.create.rate:>8,.0f} | {cx:>5} | {r.create.p50_ms:>6.2f} "
        f"| {r.create.p99_ms:>7.2f} | {100 * r.create_cpu / r.create.seconds:>4.0f}% "
        f"| {cpu_us(r.create_cpu, r.create):>6.0f} | {r.status.rate:>8,.0f} | {sx:>5} "
        f"| {r.status.p50_ms:>6.2f} | {r.status.p99_ms:>7.2f} "
        f"| {100 * r.status_cpu / r.status.seconds:>4.0f}% "
        f"| {cpu_us(r.status_cpu, r.status):>6.0f} | {r.rss_mib:>7.1f} | {r.rss_per_job:>7,.0f} |"
    )


# cpu: server CPU as a share of one core; us/req: server CPU time per answer, which a busy machine
# (other processes on the cores) disturbs much less than req/s.
HEADER = (
    "| server    | create/s | ×base | p50 ms | p99 ms  | cpu   | us/req | status/s | ×base | p50 ms "
    "| p99 ms  | cpu   | us/req | RSS MiB | B/job   |\n"
    "|-----------|----------|-------|--------|---------|-------|--------|----------|-------|--------"
    "|---------|-------|--------|---------|---------|"
)


def verdict(rounds: list[dict[str, Result]], duration: float, start: float | None) -> list[str]:
    lines: list[str] = []
    pairs = [(r["klingsim"], r["baseline"]) for r in rounds if "klingsim" in r and "baseline" in r]
    if not pairs:
        return lines
    create_ratio = min(k.create.rate / b.create.rate for k, b in pairs)
    status_ratio = min(k.status.rate / b.status.rate for k, b in pairs)
    p99 = max(k.create.p99_ms for k, _ in pairs)
    per_job = max(k.rss_per_job for k, _ in pairs)
    for phase in ("create", "status"):
        costs = [
            cpu_us(getattr(b, f"{phase}_cpu"), getattr(b, phase))
            / cpu_us(getattr(k, f"{phase}_cpu"), getattr(k, phase))
            for k, b in pairs
            if getattr(k, phase).requests
        ]
        if costs:
            lines.append(
                f"  {phase}: baseline CPU per answer / klingsim's: {min(costs):.2f}-{max(costs):.2f}"
            )
    checks = [
        ("create ×baseline (worst round)", create_ratio, TARGETS["create_ratio"], ">="),
        ("status ×baseline (worst round)", status_ratio, TARGETS["status_ratio"], ">="),
        (f"create p99 ms over {duration:g} s (target for 60 s)", p99, TARGETS["create_p99_ms"], "<="),
        ("RSS growth B per created job", per_job, TARGETS["rss_per_job"], "<="),
    ]
    if start is not None:
        checks.append(("serve start to first answer s (median)", start, TARGETS["start_s"], "<="))
    for label, value, target, op in checks:
        met = value >= target if op == ">=" else value <= target
        lines.append(f"  {label:<44} {value:>9.2f}  target {op} {target:g}  {'met' if met else 'MISSED'}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="warm-up seconds per server before each phase"
    )
    parser.add_argument(
        "--slice", type=float, default=2.0, help="seconds of one slice of load (servers alternate ABBA)"
    )
    parser.add_argument(
        "--lead-in",
        type=float,
        default=0.5,
        help="seconds at the start of each slice that are not measured (the load generator's start-up)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--servers", default="baseline,klingsim", help="comma-separated, in round-1 order")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--klingsim-python", default=sys.executable, help="the interpreter whose klingsim is measured"
    )
    parser.add_argument("--starts", type=int, default=7, help="timed starts of klingsim serve (0: none)")
    args = parser.parse_args()
    if args.loadgen == "auto":
        args.loadgen = "wrk" if shutil.which("wrk") else "python"
    servers = [s for s in args.servers.split(",") if s]
    unknown = set(servers) - {"baseline", "klingsim"}
    if unknown:
        parser.error(f"unknown server(s) {', '.join(sorted(unknown))}; choose baseline, klingsim")
    if not servers or len(set(servers)) != len(servers):
        parser.error("--servers names baseline and/or klingsim, each once (e.g. baseline,klingsim)")
    if args.duration <= 0 or args.warmup < 0 or not 0 <= args.lead_in < args.slice:
        parser.error("give --duration > 0, --warmup >= 0 and 0 <= --lead-in < --slice (seconds)")
    if args.loadgen == "wrk" and any(x != int(x) for x in (args.slice, args.warmup)):
        parser.error(
            "wrk runs for whole seconds only: give --slice and --warmup in whole seconds "
            "(or use --loadgen python)"
        )
    print(
        f"load generator: {args.loadgen}"
        + (" (install wrk for absolute figures)" if args.loadgen == "python" else "")
        + f"; {args.connections} connections, {args.warmup:g} s warm-up + {args.duration:g} s per phase "
        f"and server, in {args.slice:g} s slices alternating ABBA between the servers (the first "
        f"{args.lead_in:g} s of each not measured); {os.cpu_count()} cores"
    )
    start = None
    if args.starts > 0 and "klingsim" in servers:
        compile_bytecode(args.klingsim_python)
        starts = sorted(start_seconds(args.klingsim_python) for _ in range(args.starts))
        start = starts[len(starts) // 2]
        print(
            f"klingsim serve start to first answer: median {start:.3f} s, "
            f"min {starts[0]:.3f} s, max {starts[-1]:.3f} s ({len(starts)} starts)"
        )
    rounds: list[dict[str, Result]] = []
    notes: list[str] = []
    for i in range(args.rounds):
        order = servers[i % len(servers) :] + servers[: i % len(servers)]
        results = measure_round(order, args)
        rounds.append(results)
        print(f"\nround {i + 1} (order: {', '.join(order)}; A = {order[0]})")
        print(HEADER)
        for name in order:
            print(row(results[name], results.get("baseline")))
            notes.extend(results[name].notes)
    for note in notes:
        print("note:", note)
    lines = verdict(rounds, args.duration, start)
    if lines:
        print("\nklingsim against the targets of issue 14:")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
