"""`klingsim serve` start to first 200 on the health endpoint (target <= 0.3 s), median of several starts.

klingsim's bytecode is compiled first, as `pip install` does: a checkout run with PYTHONDONTWRITEBYTECODE=1
would otherwise time Python's compiler on every start."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def one_start() -> float:
    port = free_port()
    cli = Path(sys.executable).with_name("klingsim")
    start = time.perf_counter()
    proc = subprocess.Popen([str(cli), "serve", "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # printed once the socket listens
        response = httpx.get(f"http://127.0.0.1:{port}/_klingsim/health", timeout=10)
        assert response.status_code == 200
        return time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    import compileall

    import klingsim

    compileall.compile_dir(str(Path(klingsim.__file__).parent), quiet=1)
    times = [one_start() for _ in range(7)]
    print(
        f"serve start to first 200: median {statistics.median(times):.3f} s, "
        f"min {min(times):.3f} s, max {max(times):.3f} s"
    )
