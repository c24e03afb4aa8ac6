"""The job engine's calendar queue (core.timeline) takes entries in exactly a heap's order."""

from __future__ import annotations

import heapq
import math

from hypothesis import example, given
from hypothesis import strategies as st

from klingsim.core.timeline import Timeline

# Operations: ("push", due time) or ("take", up to this time), as the engine's tick does.
due_times = st.one_of(
    st.floats(min_value=0, max_value=5, allow_nan=False),
    st.sampled_from([0.0, 0.05, 0.1, 0.049999, 1.0]),  # bucket edges (width 0.05)
    st.just(math.inf),
)
operations = st.lists(st.tuples(st.sampled_from(["push", "take"]), due_times), max_size=120)


@given(operations)
@example([("push", 0.03), ("push", 0.01), ("push", 0.02), ("take", 5.0)])  # one bucket, pushed unordered
@example([("push", 0.5), ("take", 0.0), ("push", 0.04), ("push", 0.51), ("take", 1.0)])  # pushed while taking
def test_entries_come_out_in_heap_order_whatever_is_pushed_while_taking(ops: list[tuple[str, float]]) -> None:
    timeline, heap = Timeline(width=0.05), []
    seq = 0
    for op, at in ops:
        if op == "push":
            seq += 1
            timeline.push((at, seq))
            heapq.heappush(heap, (at, seq))
        else:
            taken = []
            while (entry := timeline.pop_due(at)) is not None:
                taken.append(entry)
            expected = []
            while heap and heap[0][0] <= at:
                expected.append(heapq.heappop(heap))
            assert taken == expected
            assert timeline.first() == (heap[0][0] if heap else None)  # (which takes a bucket early)
        assert len(timeline) == len(heap)
    rest = [timeline.pop_due(math.inf) for _ in range(len(timeline))]
    assert rest == [heapq.heappop(heap) for _ in range(len(heap))]
    assert timeline.pop_due(math.inf) is None


def test_an_empty_timeline_has_nothing_first_and_nothing_due() -> None:
    timeline = Timeline()
    assert timeline.first() is None and len(timeline) == 0
    assert timeline.pop_due(math.inf) is None
    timeline.push((1.0, 1))
    timeline.clear()
    assert timeline.first() is None and len(timeline) == 0


def test_entries_taken_are_let_go_even_when_the_bucket_keeps_growing() -> None:
    # A frozen virtual clock: every entry is due in the bucket being taken, and taken at once.
    timeline = Timeline(width=0.05)
    for seq in range(1, 1001):
        timeline.push((10.0, seq))
        assert timeline.first() == 10.0
        assert timeline.pop_due(10.0) == (10.0, seq)
    assert len(timeline._taking) <= 1
