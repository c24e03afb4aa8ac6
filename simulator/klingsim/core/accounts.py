"""API keys, the accounts they belong to, and their provisioning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class KeyRegistry:
    """Which keys exist per provider and the account each belongs to (a key is its own account by default;
    EmpirioLabs keys of one account share its balance and rate limit)."""

    strict: bool = False
    _accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    on_add: Callable[[str, str, str], None] | None = None  # (provider, key, account): persistence
    # Secrets of keys that sign their requests (the official Kling API's AccessKey -> SecretKey).
    _secrets: dict[tuple[str, str], str] = field(default_factory=dict)

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

    def secret_of(self, provider: str, key: str) -> str | None:
        return self._secrets.get((provider, key))

    def keys(self, provider: str) -> list[str]:
        return [k for (p, k) in self._accounts if p == provider]

    def reset(self) -> None:
        self._accounts.clear()
        self._secrets.clear()
