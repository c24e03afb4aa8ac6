"""Callback URL rules (EvoLink seed 001: "HTTPS only, no internal IPs, max 2048 chars").

Addresses are judged in every notation a resolver or HTTP client would accept: dotted, shortened (`127.1`),
decimal (`2130706433`), hex (`0x7f000001`), octal (`0177.0.0.1`), IPv6 with brackets and zones, IPv4-mapped
and -compatible IPv6, 6to4 and NAT64 embeddings, and `localhost` names. A hostname is not resolved here
(the simulator runs offline); each delivery attempt resolves it once, refuses internal answers and
connects to the address it checked (core.callbacks.pin).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _ipv4_number(part: str) -> int | None:
    lower = part.lower()
    try:
        if lower.startswith("0x"):
            return int(lower[2:] or "0", 16)
        if len(lower) > 1 and lower.startswith("0"):
            return int(lower[1:], 8)
        return int(lower, 10) if lower.isascii() and lower.isdigit() else None
    except ValueError:
        return None


def parse_ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """IPv4 as inet_aton reads it: 1-4 parts, each decimal, 0x-hex or 0-octal; the last fills the rest."""
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]  # a trailing dot is the root label
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    head, last = values[:-1], values[-1]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    total = 0
    for n in head:
        total = total * 256 + n
    total = total * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(total)


def host_address(host: str) -> IPAddress | None:
    """The address a URL host names literally, or None for a name."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return parse_ipv4_loose(host)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = address.packed
    if address in _NAT64 or (packed[:12] == bytes(12) and int(address) > 1):
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_loopback(address: IPAddress) -> bool:
    inner = embedded_ipv4(address)
    return address.is_loopback or (inner is not None and inner.is_loopback)


def is_internal(address: IPAddress) -> bool:
    """Private, loopback, link-local, unspecified, reserved, multicast or shared (CGNAT): not public.

    For an IPv6 address carrying an IPv4 one, the carried address decides (the prefixes are not global)."""
    inner = embedded_ipv4(address)
    judged: IPAddress = inner if inner is not None else address
    return not judged.is_global or judged.is_multicast


def _is_local_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def url_problem(
    url: object, *, https_only: bool, refuse_private: bool, max_length: int, allow_http: bool
) -> str | None:
    """Why `url` may not receive callbacks (None: it may). `allow_http` (local tests only) also admits
    `http://` and loopback receivers; private and link-local addresses stay refused."""
    if not isinstance(url, str):
        return "must be a string URL"
    if len(url) > max_length:
        return f"must be at most {max_length} characters (got {len(url)})"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    allowed = ("https", "http") if (allow_http or not https_only) else ("https",)
    if parts.scheme.lower() not in allowed:
        return "must use HTTPS" if "http" not in allowed else "must be an http(s) URL"
    if not host:
        return "must name a host"
    if not refuse_private:
        return None
    address = host_address(host)
    loopback = _is_local_name(host) or (address is not None and is_loopback(address))
    if loopback:
        return None if allow_http else "must not point to a loopback address"
    if address is not None and is_internal(address):
        return "must not point to a private, link-local or reserved address"
    return None
