"""Experiment timelines: counts per time bucket, coarsened past a bound, merged exactly."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tables.experiments import TallyFold, arm_key, timeline_key
from tables.timeline import FIRST_WIDTH_S, MAX_BUCKETS, Timeline, merge_all, points

A = arm_key("exp", "run1", "control")
T0 = 1_700_000_040.0


def test_counts_land_in_the_minute_that_holds_them() -> None:
    line = Timeline()
    line.add(T0, requests=1, impressions=10)
    line.add(T0 + 59, clicks=1)
    line.add(T0 + 60, conversions=1)
    assert line.width_s == FIRST_WIDTH_S
    assert line.buckets == {int(T0): [1, 10, 1, 0], int(T0) + 60: [0, 0, 0, 1]}


def test_a_long_run_doubles_the_width_and_keeps_every_count() -> None:
    line = Timeline()
    for minute in range(10 * MAX_BUCKETS):
        line.add(T0 + 60 * minute, requests=1)
    assert len(line.buckets) <= MAX_BUCKETS
    assert line.width_s > FIRST_WIDTH_S
    assert sum(counts[0] for counts in line.buckets.values()) == 10 * MAX_BUCKETS
    assert all(start % line.width_s == 0 for start in line.buckets)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 400_000), st.integers(1, 5)), max_size=300))
def test_merging_partitions_equals_counting_them_together(
    events: list[tuple[bool, int, int]],
) -> None:
    left, right, together = Timeline(), Timeline(), Timeline()
    for to_left, offset, n in events:
        (left if to_left else right).add(T0 + offset, impressions=n)
        together.add(T0 + offset, impressions=n)
    merged = merge_all([left, right])
    width = max(merged.width_s, together.width_s)
    assert merged.merge(Timeline(width)).buckets == together.merge(Timeline(width)).buckets


def test_points_give_running_totals_on_common_buckets() -> None:
    control, treatment = Timeline(), Timeline()
    control.add(T0, requests=1, impressions=10, clicks=1)
    treatment.add(T0 + 60, requests=2, impressions=20)
    control.add(T0 + 120, clicks=2)
    answer = points({"control": control, "treatment": treatment})
    assert answer["starts"] == [int(T0), int(T0) + 60, int(T0) + 120]
    assert [row["clicks"] for row in answer["cumulative"]["control"]] == [1, 1, 3]
    assert [row["requests"] for row in answer["cumulative"]["treatment"]] == [0, 2, 2]


def test_the_fold_counts_a_page_when_served_and_a_late_click_when_made() -> None:
    store: dict[str, Any] = {}
    fold = TallyFold(0, store.get)
    assert fold.outcome("u1", "e1", "r1", "click", at=T0 + 300)
    assert fold.impression("u1", "r1", [A], 10, at=T0)
    line = Timeline.from_json(fold.writes[timeline_key(A, 0)])
    assert line.buckets == {int(T0): [1, 10, 0, 0], int(T0) + 300: [0, 0, 1, 0]}


def test_a_replayed_page_is_not_counted_twice_over_time() -> None:
    store: dict[str, Any] = {}
    fold = TallyFold(0, store.get)
    fold.impression("u1", "r1", [A], 10, at=T0)
    store.update(fold.writes)
    again = TallyFold(0, store.get)
    assert not again.impression("u1", "r1", [A], 10, at=T0)
    assert timeline_key(A, 0) not in again.writes
