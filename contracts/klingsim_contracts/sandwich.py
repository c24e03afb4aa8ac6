"""The sandwich: the gateway's upstream is a klingsim server, and the kit drives its control plane.

Rules that need time, money or upstream faults ask this module; when a capability is missing (no
`--upstream-control`, a real clock, an older klingsim without faults) they are reported *not exercised*.
Assumption, recorded in the report: the gateway passes the client's API key upstream, so the kit reads and
sets the upstream account of the key it uses.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from klingsim_contracts.targets import HttpTarget, Target


class Unavailable(Exception):
    """The upstream control plane can't do this (absent, or an older klingsim)."""


class UpstreamControl:
    """Client of `<url>/_klingsim/...` on the klingsim server behind the gateway."""

    def __init__(self, target: Target | str) -> None:
        self.target: Target = HttpTarget(target) if isinstance(target, str) else target
        self._virtual: bool | None = None
        # Told of every state-changing call, so replay scripts include the clock moves and faults.
        self.on_call: Callable[[str, str, Any, httpx.Response], None] | None = None

    @property
    def url(self) -> str:
        return self.target.base_url

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        kw: dict[str, Any] = {} if body is None else {"json": body}
        response = self.target.request(method, "/_klingsim" + path, **kw)
        if self.on_call is not None and method != "GET":
            self.on_call(method, "/_klingsim" + path, body, response)
        if response.status_code in (404, 405, 501):
            raise Unavailable(f"{method} /_klingsim{path} answered {response.status_code}")
        if response.status_code >= 400:
            raise Unavailable(f"{method} /_klingsim{path} answered {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def virtual_clock(self) -> bool:
        if self._virtual is None:
            try:
                self._virtual = self._call("GET", "/clock").get("mode") == "virtual"
            except Unavailable:
                self._virtual = False
        return self._virtual

    def advance(self, seconds: float) -> None:
        if not self.virtual_clock():
            raise Unavailable("the upstream clock is not virtual (start it with --clock virtual)")
        self._call("POST", "/clock/advance", {"seconds": seconds})

    def set_balance(self, provider: str, key: str, amount: float, secret: str | None = None) -> None:
        """Set a key's balance; `secret` also registers the secret its tokens are signed with (Kling)."""
        body: dict[str, Any] = {"balance": amount}
        if secret is not None:
            body["secret_key"] = secret
        self._call("PUT", f"/accounts/{provider}/{quote(key, safe='')}", body)

    def balance(self, provider: str, key: str) -> float:
        return float(self._call("GET", f"/accounts/{provider}/{quote(key, safe='')}")["balance"])

    def inject_fault(self, fault: dict[str, Any]) -> str:
        answer = self._call("POST", "/faults", fault)
        return str(answer.get("id", "")) if isinstance(answer, dict) else ""

    def clear_faults(self) -> None:
        with contextlib.suppress(Unavailable):
            self._call("DELETE", "/faults")

    def force_outcome(self, provider: str, job_id: str, status: str, error: str = "") -> None:
        body = {"status": status, **({"error": error} if error else {})}
        self._call("POST", f"/jobs/{provider}/{quote(job_id, safe='')}/outcome", body)

    def settle_leftovers(self) -> None:
        """Let what earlier runs left behind (faults, unfinished jobs) end before this run starts."""
        self.clear_faults()
        if self.virtual_clock():
            self._call("POST", "/clock/advance", {"seconds": SETTLE_SECONDS})

    def close(self) -> None:
        self.target.close()


SETTLE_SECONDS = 24 * 3600.0  # longer than any documented render: every earlier job has ended after it


@contextlib.contextmanager
def upstream_lock(url: str, exclusive: bool) -> Iterator[None]:
    """Take turns with other runs on this machine against the same upstream (pytest-xdist workers, parallel
    CI steps): faults and clock moves are upstream-wide, so a rule using them holds the lock alone."""
    name = hashlib.sha256(url.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"klingsim-upstream-{name}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
