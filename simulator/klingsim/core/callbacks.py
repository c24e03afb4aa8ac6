"""Callback deliveries: the provider's task object POSTed to the job's callback URL when it ends.

A delivery is created when a job reaches a terminal state, after its billing settled (the simulator's
settle listener runs first; EvoLink: "sent after billing confirmation is completed"). Attempts are due at
clock times: the first when the job ends, each retry the policy's delay after the previous one (EvoLink 1,
2, 4 s). `run_due()` performs the attempts due by now, each one's time being its due time, so a virtual
clock advanced past several retries runs them all, in order, inside `advance()`. Nothing here runs on a
request path: the server calls `run_due()` from a background thread on a real clock.

Every attempt is recorded (status, error, times); the transport is pluggable so tests can use a fake.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from klingsim.core.clock import iso
from klingsim.core.urlrules import host_address, is_internal, is_loopback

# (url, payload, headers, timeout seconds) -> (HTTP status or None, error text or None)
Transport = Callable[[str, dict[str, Any], dict[str, str], float], tuple[int | None, str | None]]


@dataclass
class Attempt:
    number: int
    due_at: float
    sent_at: float
    status: int | None
    error: str | None
    duration_ms: float

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["due"] = iso(self.due_at)
        return data


@dataclass
class Delivery:
    id: str
    provider: str
    job_id: str
    account: str
    url: str
    payload: dict[str, Any]
    created_at: float
    next_at: float | None
    timeout: float
    retry_delays: tuple[float, ...]
    state: str = "pending"  # pending | delivered | failed
    attempts: list[Attempt] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "job_id": self.job_id,
            "url": self.url,
            "state": self.state,
            "created_at": self.created_at,
            "next_attempt_at": self.next_at,
            "timeout_seconds": self.timeout,
            "retry_delays": list(self.retry_delays),
            "payload": self.payload,
            "attempts": [a.as_json() for a in self.attempts],
        }


# (host, port) -> the addresses the name resolves to, in preference order
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Target:
    """Where one attempt connects: `address` (None: the URL's literal host as it is) and the name that
    TLS (SNI, certificate) and the Host header keep using."""

    url: str
    host: str
    address: str | None


def pin(url: str, allow_loopback: bool, resolve: Resolver = system_resolver) -> Target | str:
    """The checked address this attempt connects to, or why it is refused.

    A name is resolved once, here: every answer must be public (loopback too when `allow_loopback`), and
    the connection goes to the first of them, so a resolver answering differently on the next lookup
    (DNS rebinding) can't steer the connection to an address that wasn't checked. Literal addresses were
    judged when the URL was accepted and are used as they are."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host_address(host) is not None or host.rstrip(".").lower() == "localhost":
        return Target(url, host, None)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        answers = resolve(host, port)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    checked: list[str] = []
    for answer in answers:
        address = host_address(answer)
        if address is None:
            continue
        if is_internal(address) and not (allow_loopback and is_loopback(address)):
            return f"{host} resolves to an internal address ({address}); refused"
        checked.append(answer)
    if not checked:
        return f"{host} resolves to no address"
    return Target(url, host, checked[0])


def httpx_transport(allow_internal: bool, resolve: Resolver = system_resolver) -> Transport:
    """Real HTTP with httpx to the address checked for this attempt (`pin`), keeping the URL's host name
    for TLS (SNI and certificate) and the Host header. Loopback answers are allowed when `allow_internal`,
    i.e. with --allow-http-callbacks."""

    def send(
        url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        import httpx

        target = pin(url, allow_internal, resolve)
        if isinstance(target, str):
            return None, target
        request_url = httpx.URL(url)
        extensions: dict[str, Any] = {}
        if target.address is not None:
            headers = {**headers, "host": request_url.netloc.decode("ascii")}
            request_url = request_url.copy_with(host=target.address)
            extensions["sni_hostname"] = target.host
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
                response = client.post(request_url, json=payload, headers=headers, extensions=extensions)
            return response.status_code, None
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"

    return send


class CallbackDispatcher:
    def __init__(self, transport: Transport, on_change: Callable[[Delivery], None] | None = None) -> None:
        self.transport = transport
        self.on_change = on_change
        self._deliveries: dict[str, Delivery] = {}
        self._next = 0
        self._lock = threading.RLock()
        self._running = threading.Lock()

    def enqueue(
        self,
        provider: str,
        job_id: str,
        account: str,
        url: str,
        payload: dict[str, Any],
        at: float,
        timeout: float,
        retry_delays: Iterable[float],
    ) -> Delivery:
        with self._lock:
            self._next += 1
            delivery = Delivery(
                f"dlv_{self._next}",
                provider,
                job_id,
                account,
                url,
                payload,
                at,
                at,
                timeout,
                tuple(retry_delays),
            )
            self._deliveries[delivery.id] = delivery
        self._changed(delivery)
        return delivery

    def _changed(self, delivery: Delivery) -> None:
        if self.on_change is not None:
            self.on_change(delivery)

    def due(self, now: float) -> list[Delivery]:
        with self._lock:
            pending = [d for d in self._deliveries.values() if d.next_at is not None and d.next_at <= now]
        return sorted(pending, key=lambda d: (d.next_at or 0.0, d.id))

    def run_due(self, now: float, wall: Callable[[], float]) -> int:
        """Perform every attempt due by `now` (retries falling due in between too); returns how many ran.

        One caller at a time: a second concurrent call returns 0 rather than send an attempt twice."""
        if not self._running.acquire(blocking=False):
            return 0
        ran = 0
        try:
            while True:
                batch = self.due(now)
                if not batch:
                    return ran
                for delivery in batch:
                    self._attempt(delivery, now, wall)
                    ran += 1
        finally:
            self._running.release()

    def _attempt(self, delivery: Delivery, now: float, wall: Callable[[], float]) -> None:
        due_at = delivery.next_at if delivery.next_at is not None else 0.0
        number = len(delivery.attempts) + 1
        headers = {
            "user-agent": "klingsim-callbacks/1",
            "x-klingsim-delivery": delivery.id,
            "x-klingsim-attempt": str(number),
        }
        started = wall()
        try:
            status, error = self.transport(delivery.url, delivery.payload, headers, delivery.timeout)
        except Exception as exc:  # a broken transport must not take the worker down; record it
            status, error = None, f"{type(exc).__name__}: {exc}"
        elapsed = (wall() - started) * 1000
        ok = status is not None and 200 <= status < 300
        if status is not None and not ok and error is None:
            error = f"receiver answered {status}"
        with self._lock:
            delivery.attempts.append(Attempt(number, due_at, now, status, error, round(elapsed, 3)))
            if ok:
                delivery.state, delivery.next_at = "delivered", None
            elif number <= len(delivery.retry_delays):
                delivery.next_at = due_at + delivery.retry_delays[number - 1]
            else:
                delivery.state, delivery.next_at = "failed", None
        self._changed(delivery)

    def get(self, delivery_id: str) -> Delivery | None:
        return self._deliveries.get(delivery_id)

    def list(self, provider: str | None = None, job_id: str | None = None) -> list[Delivery]:
        with self._lock:
            found = list(self._deliveries.values())
        return [d for d in found if (provider in (None, d.provider)) and (job_id in (None, d.job_id))]

    def restore(self, deliveries: Iterable[Delivery]) -> None:
        with self._lock:
            for d in deliveries:
                self._deliveries[d.id] = d
                self._next = max(self._next, int(d.id.rpartition("_")[2] or 0))

    def reset(self) -> None:
        with self._lock:
            self._deliveries.clear()
