"""Virtual waiting: while active, `time.sleep(s)` and `asyncio.sleep(s)` advance the simulator's clock by `s`
instead of waiting, so a client that polls every 5 s through a 7-minute render finishes in milliseconds.

Only the module attributes are patched: code calling `time.sleep(...)` / `asyncio.sleep(...)` is covered;
a `from time import sleep` done before activation, or a library's private sleep (anyio, trio), is not.
Every thread sees the patch while it is active; nothing here sleeps for real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock


class RunawayClient(BaseException):
    """The client waited or asked longer than the budget allows (a BaseException so `except Exception`
    in the client under test can't swallow it)."""


@contextmanager
def sleeps_advance(advance: Callable[[float], Any], budget_seconds: float | None = None) -> Iterator[None]:
    """Patch `time.sleep` and `asyncio.sleep` to call `advance(seconds)`; stop a client past the budget."""
    real_async_sleep = asyncio.sleep
    waited = 0.0

    def account(seconds: float) -> None:
        nonlocal waited
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        waited += seconds
        if budget_seconds is not None and waited > budget_seconds:
            raise RunawayClient(f"the client waited more than {budget_seconds:g} s of virtual time")
        if seconds > 0:
            advance(seconds)

    def sleep(seconds: float) -> None:
        account(float(seconds))

    async def async_sleep(delay: float, result: Any = None) -> Any:
        account(float(delay))
        return await real_async_sleep(0, result)  # still yield to the event loop once

    with mock.patch.object(time, "sleep", sleep), mock.patch.object(asyncio, "sleep", async_sleep):
        yield
