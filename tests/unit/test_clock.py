from __future__ import annotations

import pytest

from klingsim.core.clock import VIRTUAL_EPOCH, RealClock, VirtualClock, iso


def test_virtual_clock_moves_only_when_told() -> None:
    clock = VirtualClock()
    assert clock.now() == VIRTUAL_EPOCH == clock.now()
    assert clock.advance(90) == VIRTUAL_EPOCH + 90
    assert clock.set(VIRTUAL_EPOCH + 100) == VIRTUAL_EPOCH + 100
    assert iso(clock.now()) == "2026-01-01T00:01:40Z"


def test_virtual_clock_never_goes_back() -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.advance(10)
    with pytest.raises(ValueError):
        clock.set(VIRTUAL_EPOCH)


def test_real_clock_speed_scales_elapsed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("klingsim.core.clock.time.time", lambda: now[0])
    clock = RealClock(speed=60)
    now[0] += 2
    assert clock.now() == pytest.approx(1000 + 120)
    with pytest.raises(ValueError):
        RealClock(speed=0)
