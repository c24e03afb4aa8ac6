"""Scenario files (`klingsim serve --scenario FILE`, TOML): the simulator's options, accounts and balances,
rate limits and faults to start with. Every table and key is checked; a typo is an error, never ignored.

    [simulator]            clock = "virtual" | "real", speed, seed, strict_keys, allow_http_callbacks,
                           journal_size, max_finished_jobs
    [rate_limits]          default = {requests, per_seconds}; <provider> = {requests, per_seconds, scope}
                           or false (no limit for that provider)
    [[accounts]]           provider, key, balance, account (optional: keys of one account share it)
    [[faults]]             the control plane's fault fields (provider, endpoint, error, count, ...)
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klingsim.core.faults import FaultSpec, fault_from_json
from klingsim.core.ratelimit import Limit

if TYPE_CHECKING:
    from klingsim.core.simulator import Simulator

SIMULATOR_KEYS: dict[str, type | tuple[type, ...]] = {
    "clock": str,
    "speed": (int, float),
    "seed": int,
    "strict_keys": bool,
    "allow_http_callbacks": bool,
    "journal_size": int,
    "max_finished_jobs": int,
}
ACCOUNT_KEYS = {"provider", "key", "balance", "account"}


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class AccountSeed:
    provider: str
    key: str
    balance: Decimal
    account: str | None = None


@dataclass
class Scenario:
    path: str
    options: dict[str, Any] = field(default_factory=dict)
    accounts: list[AccountSeed] = field(default_factory=list)
    faults: list[FaultSpec] = field(default_factory=list)
    default_rate_limit: Limit | None = None
    rate_limits: dict[str, Limit | None] = field(default_factory=dict)

    def check_providers(self, known: Iterable[str]) -> None:
        ids = set(known)
        named = (
            [a.provider for a in self.accounts] + [f.provider for f in self.faults] + list(self.rate_limits)
        )
        unknown = sorted({p for p in named if p not in ids})
        if unknown:
            raise ScenarioError(f"{self.path}: unknown providers {unknown}; known: {sorted(ids)}")

    def apply(self, sim: Simulator) -> None:
        """Load accounts and faults into a simulator (its options were set when it was built)."""
        self.check_providers(sim.runtimes)
        for seed in self.accounts:
            sim.set_balance(seed.provider, seed.key, seed.balance, seed.account)
        for fault in self.faults:
            codes = {e.code for e in sim.runtimes[fault.provider].spec.errors}
            if fault.error is not None and fault.error not in codes:
                raise ScenarioError(
                    f"{self.path}: {fault.provider} has no error {fault.error!r}; "
                    f"valid codes: {', '.join(sorted(codes))}"
                )
            sim.faults.add(fault)


def _table(data: Mapping[str, Any], name: str, path: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{path}: [{name}] must be a table")
    return value


def _limit(value: Any, where: str) -> Limit | None:
    if value is False:
        return None
    if not isinstance(value, Mapping) or set(value) - {"requests", "per_seconds", "scope"}:
        raise ScenarioError(f"{where} must be {{requests, per_seconds[, scope]}} or false")
    try:
        return Limit(int(value["requests"]), float(value["per_seconds"]), str(value.get("scope", "account")))
    except (KeyError, ValueError) as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def load_scenario(path: str | Path) -> Scenario:
    where = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    unknown = set(data) - {"simulator", "rate_limits", "accounts", "faults"}
    if unknown:
        raise ScenarioError(f"{where}: unknown tables {sorted(unknown)}")
    scenario = Scenario(where)
    for key, value in _table(data, "simulator", where).items():
        kind = SIMULATOR_KEYS.get(key)
        if kind is None:
            raise ScenarioError(f"{where}: [simulator] has no {key!r}; known: {sorted(SIMULATOR_KEYS)}")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ScenarioError(f"{where}: [simulator] {key} has the wrong type")
        scenario.options[key] = value
    if scenario.options.get("clock", "real") not in ("real", "virtual"):
        raise ScenarioError(f"{where}: [simulator] clock must be 'real' or 'virtual'")
    for name, value in _table(data, "rate_limits", where).items():
        limit = _limit(value, f"{where}: [rate_limits] {name}")
        if name == "default":
            scenario.default_rate_limit = limit
        else:
            scenario.rate_limits[name] = limit
    for i, raw in enumerate(data.get("accounts", [])):
        if not isinstance(raw, Mapping) or set(raw) - ACCOUNT_KEYS or not {"provider", "key"} <= set(raw):
            raise ScenarioError(f"{where}: accounts[{i}] needs provider and key (and balance, account)")
        balance = Decimal(str(raw.get("balance", 0)))
        if balance < 0:
            raise ScenarioError(f"{where}: accounts[{i}] balance must not be negative")
        scenario.accounts.append(AccountSeed(raw["provider"], raw["key"], balance, raw.get("account")))
    for i, raw in enumerate(data.get("faults", [])):
        try:
            fault = fault_from_json(dict(raw))
            problems = fault.problems()
        except (TypeError, ValueError) as exc:
            raise ScenarioError(f"{where}: faults[{i}]: {exc}") from None
        if problems:
            raise ScenarioError(f"{where}: faults[{i}]: {'; '.join(problems)}")
        scenario.faults.append(fault)
    return scenario
