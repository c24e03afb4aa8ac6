"""API keys, the accounts they belong to, and their provisioning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# Keys a provider may provision on first use; each costs memory (and a ledger), so anyone sending fresh
# keys can't grow the simulator without bound. Keys set on the control plane don't count against it.
DEFAULT_MAX_AUTO_KEYS = 10_000


class TooManyKeys(Exception):
    """A new key would pass the provider's cap on keys provisioned on first use."""


@dataclass
class KeyRegistry:
    """Which keys exist per provider and the account each belongs to (a key is its own account by default;
    EmpirioLabs keys of one account share its balance and rate limit)."""

    strict: bool = False
    _accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    on_add: Callable[[str, str, str], None] | None = None  # (provider, key, account): persistence
    # Secrets of keys that sign their requests (the official Kling API's AccessKey -> SecretKey).
    _secrets: dict[tuple[str, str], str] = field(default_factory=dict)
    on_secret: Callable[[str, str, str | None], None] | None = None  # (provider, key, secret): persistence
    max_auto_keys: int = DEFAULT_MAX_AUTO_KEYS
    _auto: dict[str, int] = field(default_factory=dict)  # provisioned keys per provider

    def account_of(self, provider: str, key: str) -> str | None:
        return self._accounts.get((provider, key))

    def add(self, provider: str, key: str, account: str | None = None) -> str:
        account = account or key
        self._accounts[(provider, key)] = account
        if self.on_add is not None:
            self.on_add(provider, key, account)
        return account

    def set_secret(self, provider: str, key: str, secret: str | None) -> None:
        """Register (or, with None, forget) the secret a key signs with; its signatures are then verified."""
        if secret is None:
            self._secrets.pop((provider, key), None)
        else:
            self._secrets[(provider, key)] = secret
        if self.on_secret is not None:
            self.on_secret(provider, key, secret)

    def secret_of(self, provider: str, key: str) -> str | None:
        return self._secrets.get((provider, key))

    def provision(self, provider: str, key: str) -> str:
        """Add a key seen for the first time, as its own account; TooManyKeys past `max_auto_keys`."""
        count = self._auto.get(provider, 0)
        if count >= self.max_auto_keys:
            raise TooManyKeys(
                f"klingsim already provisioned {count} {provider} keys on first use (the cap); reuse a "
                "key, add one with PUT /_klingsim/accounts/..., or POST /_klingsim/reset"
            )
        self._auto[provider] = count + 1
        return self.add(provider, key)

    def keys(self, provider: str) -> list[str]:
        return [k for (p, k) in self._accounts if p == provider]

    def reset(self) -> None:
        self._accounts.clear()
        self._secrets.clear()
        self._auto.clear()
