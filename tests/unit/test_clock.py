from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from klingsim.core.clock import VIRTUAL_EPOCH, RealClock, VirtualClock, iso, to_datetime


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


@given(st.integers(0, 4_000_000_000), st.sampled_from([0.0, 1e-7, 0.25, 0.999_998, 0.999_999_4, 0.999_999_6]))
def test_iso_reuses_a_second_only_when_it_reads_the_same(second: int, fraction: float) -> None:
    for t in (second + fraction, second + 0.5, second + fraction):
        assert iso(t) == to_datetime(t).strftime("%Y-%m-%dT%H:%M:%SZ")
