"""`klingsim serve` start to first 200 on the health endpoint (target <= 0.3 s), median of several starts.

klingsim's bytecode is compiled first, as `pip install` does: a checkout run with PYTHONDONTWRITEBYTECODE=1
would otherwise time Python's compiler on every start. `bench_http.py` times its starts with these functions.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def compile_bytecode(python: str) -> None:
    """Compile klingsim's modules once, as an install does (an editable checkout may have none)."""
    code = (
        "import compileall, klingsim, os; compileall.compile_dir(os.path.dirname(klingsim.__file__), quiet=1)"
    )
    subprocess.run([python, "-c", code], check=False, capture_output=True, timeout=120)


def start_seconds(python: str) -> float:
    """Seconds from starting `klingsim serve` to its first answer (GET /_klingsim/health)."""
    port = free_port()
    command = [python, "-m", "klingsim.cli", "serve", "--port", str(port), "--quiet"]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # printed once the socket listens
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_klingsim/health", timeout=10) as answer:
            if answer.status != 200:
                raise RuntimeError(f"health answered {answer.status}")
        return time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    compile_bytecode(sys.executable)
    times = [start_seconds(sys.executable) for _ in range(7)]
    print(
        f"serve start to first 200: median {statistics.median(times):.3f} s, "
        f"min {min(times):.3f} s, max {max(times):.3f} s"
    )
