"""What the client checks read and say: the recorded evidence of one run, and a finding about it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from klingsim.core.simulator import Simulator
from klingsim.spec import DocRef, ProviderSpec
from klingsim_contracts.client.inputs import Ask
from klingsim_contracts.client.scenarios import Scenario


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    message: str
    count: int = 1
    first: float | None = None  # client seconds from the scenario's start
    last: float | None = None
    cite: str = ""  # the provider page the judged behaviour is documented on

    def text(self) -> str:
        see = f" [{self.cite}]" if self.cite else ""
        if self.count <= 1:
            return f"{self.check}: {self.message}{see}"
        when = ""
        if self.first is not None and self.last is not None:
            when = f" (first at t=+{self.first:.1f}s, last at t=+{self.last:.1f}s)"
        return f"{self.check}: {self.message} × {self.count}{when}{see}"


def cite(doc: DocRef) -> str:
    """A page and its quote, or the reason a behaviour is inferred."""
    if doc.source == "inferred":
        return f"inferred: {doc.reason}"
    return f"{doc.source}: {doc.quote}" if doc.quote else doc.source


@dataclass(slots=True)
class Outcome:
    """What the client reported: success (returned / exit 0) or failure (raised / non-zero exit)."""

    claimed_success: bool
    detail: str = ""


@dataclass(slots=True)
class Evidence:
    spec: ProviderSpec
    sim: Simulator
    scenario: Scenario
    api_key: str
    entries: list[dict[str, Any]]
    outcome: Outcome
    min_poll_interval: float
    request: dict[str, Any] | None = None  # the body the client was asked to submit
    start: float = 0.0  # client time at the scenario's start
    ask: Ask | None = None  # where it was asked to submit it (several create paths, a model in the path)


def short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_text(entry: dict[str, Any]) -> str:
    return f"{entry['status']} {short(entry.get('response'))}"


def api(entries: list[dict[str, Any]], provider: str) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("provider") == provider and e["action"] != "download"]
