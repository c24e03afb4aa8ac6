"""klingsim_contracts: check clients and gateways against each provider's documented behaviour."""

from __future__ import annotations

from typing import Any

# Exports resolve on first use: the pytest plugin lives in this package, and importing the package must not
# import Hypothesis, httpx or the simulator into every pytest run.
_LAZY = {
    "check_client": "klingsim_contracts.client",
    "check_command": "klingsim_contracts.client",
    "ClientReport": "klingsim_contracts.client",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'klingsim_contracts' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
