"""The served simulator's collection policy: start-up state frozen, survivors of middle collections frozen."""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator

import pytest
import uvicorn

from klingsim import cli
from klingsim.server import gcpolicy, run


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    if gcpolicy._freeze_survivors in gc.callbacks:
        gc.callbacks.remove(gcpolicy._freeze_survivors)
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gcpolicy._cadence.left = 0


def test_apply_freezes_start_up_state_and_what_survives_a_middle_collection(restored_gc: None) -> None:
    gcpolicy.apply()
    assert gcpolicy.active()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    kept = [[i] for i in range(1000)]  # tracked objects that survive the next collection
    gc.collect(1)
    assert gc.get_freeze_count() >= frozen + len(kept)
    assert gc.get_count()[2] == 0  # the old generation stays empty: nothing for a full collection to walk


def test_a_middle_collection_follows_every_second_young_one(restored_gc: None) -> None:
    young, _, old = gc.get_threshold()
    gcpolicy.apply()
    assert gc.get_threshold() == (young, gcpolicy.MIDDLE_EVERY, old) == (young, 1, old)


def test_answers_bring_collections_when_frees_offset_the_allocations(restored_gc: None) -> None:
    # An evicted job frees about as many tracked objects as a new one keeps: CPython's own count (allocations
    # minus deallocations) then never reaches its threshold, and only the answers' count starts collections.
    evicted = [[i] for i in range(20_000)]
    gcpolicy.apply()  # frozen, as held jobs are
    kept = []
    largest = 0
    for i in range(20_000):
        kept.append([i])
        evicted.pop()
        gcpolicy.answered()
        largest = max(largest, gc.get_count()[0])
        if i % 500 == 0:
            largest = max(largest, len(gc.get_objects(0)) + len(gc.get_objects(1)))
    assert largest <= 4 * gcpolicy.COLLECT_EVERY
    assert len(gc.get_objects(0)) + len(gc.get_objects(1)) <= 4 * gcpolicy.COLLECT_EVERY


def test_answers_bring_no_collection_before_the_policy_is_applied(restored_gc: None) -> None:
    gcpolicy._cadence.left = 0  # as in a process that never served
    gc.disable()  # only the policy's own collections could count here
    try:
        before = gc.get_stats()[1]["collections"]
        for _ in range(4 * gcpolicy.COLLECT_EVERY):
            gcpolicy.answered()
        assert gc.get_stats()[1]["collections"] == before
    finally:
        gc.enable()


def test_serve_applies_the_policy_once_the_app_is_built(
    restored_gc: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[bool] = []

    def fake_run(self: uvicorn.Server, sockets: list[socket.socket]) -> None:
        seen.append(gcpolicy.active())
        for sock in sockets:
            sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    assert run.serve(run.ServeOptions(port=0)) == 0
    assert seen == [True]
    assert "klingsim serving on" in capsys.readouterr().out


def test_klingsim_serve_starts_with_the_collector_off_until_the_policy_applies(
    restored_gc: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, bool] = {}
    real_build = run.build

    def build(options: run.ServeOptions) -> run.KlingsimApp:
        seen["building"] = gc.isenabled()
        return real_build(options)

    def fake_run(self: uvicorn.Server, sockets: list[socket.socket]) -> None:
        seen["serving"] = gc.isenabled()
        for sock in sockets:
            sock.close()

    monkeypatch.setattr(run, "build", build)
    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    assert cli.main(["serve", "--port", "0", "--quiet"]) == 0
    assert seen == {"building": False, "serving": True}
    assert gc.isenabled()


def test_a_serve_that_fails_to_start_leaves_the_collector_on(
    restored_gc: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def build(options: run.ServeOptions) -> run.KlingsimApp:
        raise run.ServeError("no")

    monkeypatch.setattr(run, "build", build)
    assert cli.main(["serve", "--port", "0", "--quiet"]) == 2
    assert gc.isenabled()
