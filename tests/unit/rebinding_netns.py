"""Run inside `unshare -rnm` (own network and mount namespaces): a DNS-rebinding attack on callbacks.

The namespace gets loopback plus a public-looking address (8.8.8.8, on `lo`, reachable only in here), a
DNS server on 127.0.0.1:53 that answers the name's A queries alternately with 8.8.8.8 and 127.0.0.1
(TTL 0), and /etc/resolv.conf bind-mounted to point at it. TCP listeners on both addresses' port 443
record who connects and the first bytes (the TLS ClientHello, whose SNI names the host). klingsim's
real callback transport then delivers several attempts. Prints a JSON report on stdout.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from typing import Any

NAME = "hooks.rebind.example"
PUBLIC = "8.8.8.8"
ATTEMPTS = 6


def _setup_namespace() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{PUBLIC}/32", "dev", "lo"], check=True)
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)  # noqa: SIM115 - outlives us
    conf.write("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
    conf.close()
    subprocess.run(["mount", "--bind", conf.name, "/etc/resolv.conf"], check=True)


def _dns_server(answers: list[str]) -> None:
    """A minimal authoritative answerer: A queries for NAME get the next address of a rotation."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 53))
    rotation = [PUBLIC, "127.0.0.1"]

    def serve() -> None:
        while True:
            packet, peer = sock.recvfrom(512)
            ident, _flags, qdcount = struct.unpack("!HHH", packet[:6])
            end = 12
            labels = []
            while packet[end]:
                length = packet[end]
                labels.append(packet[end + 1 : end + 1 + length].decode())
                end += 1 + length
            question = packet[12 : end + 5]
            qtype = struct.unpack("!H", packet[end + 1 : end + 3])[0]
            name = ".".join(labels).lower()
            records = b""
            count = 0
            if name == NAME and qtype == 1:
                address = rotation[len(answers) % 2]
                answers.append(address)
                records = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + socket.inet_aton(address)
                count = 1
            rcode = 0 if name == NAME else 3
            header = struct.pack("!HHHHHH", ident, 0x8400 | rcode, qdcount, count, 0, 0)
            sock.sendto(header + question + records, peer)

    threading.Thread(target=serve, daemon=True).start()


def _listener(host: str, port: int, seen: list[dict[str, Any]]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(16)

    def serve() -> None:
        while True:
            conn, _ = sock.accept()
            conn.settimeout(2)
            try:
                first = conn.recv(4096)
            except OSError:
                first = b""
            seen.append({"host": host, "sni": NAME.encode() in first, "bytes": len(first)})
            if first.startswith(b"POST"):
                host_line = next((ln for ln in first.split(b"\r\n") if ln.lower().startswith(b"host:")), b"")
                seen[-1]["host_header"] = host_line.partition(b":")[2].strip().decode()
                conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()


def main() -> None:
    _setup_namespace()
    answers: list[str] = []
    _dns_server(answers)
    seen: list[dict[str, Any]] = []
    for host in (PUBLIC, "127.0.0.1"):
        _listener(host, 443, seen)
    _listener(PUBLIC, 8080, seen)

    from klingsim.core.callbacks import httpx_transport

    strict = httpx_transport(allow_internal=False)
    results = [strict(f"https://{NAME}/cb", {"n": i}, {}, 3.0) for i in range(ATTEMPTS)]
    plain = httpx_transport(allow_internal=True)
    http_result = None
    for _ in range(2):  # one of two lookups answers the public address
        http_result = plain(f"http://{NAME}:8080/cb", {"n": 0}, {}, 3.0)
        if http_result[0] == 204:
            break
    report = {
        "answers": answers,
        "results": [[status, error] for status, error in results],
        "http_result": list(http_result) if http_result else None,
        "connections": seen,
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    os.environ.pop("HTTPS_PROXY", None)
    main()
