"""Hand-computed cases of the item fold: windows, trending and the Thompson arm."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from streamrec.errors import BadRequest, InvalidRecord
from tables.item import (
    ItemState,
    apply_impression,
    apply_item_event,
    arm_params,
    trending_score,
    window_total,
)
from tests.unit.tables.factories import DAY, HOUR, T0, event
from tests.unit.tables.readers import window_count, window_counts

MINUTE = 60.0


def fold(events: list[tuple[float, str]], state: ItemState | None = None) -> ItemState:
    for number, (timestamp, event_type) in enumerate(events):
        state = apply_item_event(state, event(f"e{number}", timestamp, event_type))
    assert state is not None
    return state


def test_window_counts_include_only_events_inside_each_window() -> None:
    state = fold(
        [
            (T0 - 30, "view"),
            (T0 - 4 * MINUTE, "view"),
            (T0 - 10 * MINUTE, "view"),
            (T0 - 2 * HOUR, "view"),
            (T0 - 2 * DAY, "view"),
            (T0 - 30, "click"),
        ]
    )

    assert [window_count(state, "view", w, T0) for w in ("5m", "1h", "24h", "all")] == [2, 3, 4, 5]
    assert [window_count(state, "click", w, T0) for w in ("5m", "1h", "24h", "all")] == [1, 1, 1, 1]
    assert window_count(state, "purchase", "24h", T0) == 0
    assert window_counts(state, "1h", T0) == {"view": 3, "click": 1}
    assert window_counts(state, "all", T0) == {"view": 5, "click": 1}
    assert window_total(state, "24h", T0) == 5


def test_one_hour_window_drops_a_bucket_that_started_before_the_hour() -> None:
    state = fold([(T0 - 58 * MINUTE, "view"), (T0 - 54 * MINUTE, "view")])

    assert window_count(state, "view", "1h", T0) == 1


def test_old_buckets_expire_when_newer_events_advance_the_ring() -> None:
    state = fold([(T0, "view"), (T0 + 25 * HOUR, "view")])

    assert window_count(state, "view", "24h", T0 + 25 * HOUR) == 1
    assert window_count(state, "view", "all", T0 + 25 * HOUR) == 2


def test_event_older_than_the_ring_counts_only_all_time() -> None:
    state = fold([(T0, "view"), (T0 - 30 * HOUR, "view")])

    assert window_count(state, "view", "24h", T0) == 1
    assert window_count(state, "view", "all", T0) == 2


def test_windows_ignore_events_after_now_and_empty_out_as_time_passes() -> None:
    state = fold([(T0 + 2 * MINUTE, "view"), (T0 - 30, "view")])

    assert window_count(state, "view", "5m", T0) == 1
    assert window_count(state, "view", "5m", T0 + 10 * MINUTE) == 0
    assert window_count(None, "view", "5m", T0) == 0


def test_unknown_window_or_event_type_is_rejected() -> None:
    state = fold([(T0, "view")])

    with pytest.raises(BadRequest):
        window_count(state, "view", "7d", T0)
    with pytest.raises(InvalidRecord):
        window_count(state, "share", "5m", T0)
    with pytest.raises(InvalidRecord):
        apply_item_event(state, event("x", T0, "share"))


def test_single_event_is_not_trending() -> None:
    state = fold([(T0, "view")])

    expected = (1 - 1 / 24) / math.sqrt(1 / 24 + 9)
    assert trending_score(state, T0) == pytest.approx(expected)
    assert trending_score(state, T0) < 0.5
    assert trending_score(None, T0) == 0.0


def test_steady_item_scores_zero_and_a_burst_scores_high() -> None:
    steady = [(T0 - hours * HOUR - 10, "view") for hours in range(24)]
    burst = [(T0 - 10 * MINUTE + seconds, "click") for seconds in range(30)]

    assert trending_score(fold(steady), T0) == pytest.approx(0.0)
    assert trending_score(fold(steady + burst), T0) == pytest.approx(28.75 / math.sqrt(11.25))


def test_arm_starts_at_the_uniform_prior() -> None:
    assert arm_params(None, T0) == (1.0, 1.0)


def test_arm_counts_clicks_and_misses_and_halves_after_one_day() -> None:
    state = apply_impression(None, T0, count=10)
    state = fold([(T0, "click"), (T0, "click"), (T0, "click"), (T0, "view")], state)

    assert arm_params(state, T0) == pytest.approx((4.0, 8.0))
    assert arm_params(state, T0 + DAY) == pytest.approx((2.5, 4.5))
    assert state.impressions == 10


def test_late_impressions_enter_the_arm_already_decayed() -> None:
    state = fold([(T0, "click")])
    state = apply_impression(state, T0 - DAY, count=4)

    assert arm_params(state, T0) == pytest.approx((2.0, 2.0))


def test_arm_half_life_is_configurable() -> None:
    state = apply_impression(None, T0, count=2, arm_half_life=HOUR)

    assert arm_params(state, T0 + HOUR, arm_half_life=HOUR) == pytest.approx((1.0, 2.0))


def test_the_fold_of_a_log_counts_each_event_once_and_replaying_the_log_changes_nothing() -> None:
    log = [(T0 - n * 97.0, "click" if n % 3 else "view") for n in range(40)]
    state = fold(log)

    by_type = dict(Counter(event_type for _, event_type in log))
    assert state.counts == by_type == {"view": 14, "click": 26}
    assert window_counts(state, "24h", T0) == by_type, "the log spans 63 minutes"
    assert state.last_event_at == max(timestamp for timestamp, _ in log)
    assert set(state.recent_ids.ids()) == {f"e{n}" for n in range(len(log))}
    facts = state.to_json()
    replayed = fold(log, state)
    assert replayed.to_json() == facts


def test_redelivered_events_and_impressions_are_not_counted_twice() -> None:
    batch = [(T0 - 30, "view"), (T0 - 20, "click"), (T0 - 10, "purchase")]
    once = fold(batch)
    once = apply_impression(once, T0, count=1, signal_id="imp:r1:i1")
    redelivered = fold(batch, fold(batch))
    for _ in range(2):
        redelivered = apply_impression(redelivered, T0, count=1, signal_id="imp:r1:i1")

    assert redelivered.to_json() == once.to_json()
    assert window_counts(redelivered, "all", T0) == {"view": 1, "click": 1, "purchase": 1}
    assert redelivered.impressions == 1
    assert arm_params(redelivered, T0) == pytest.approx((2.0, 1.0), rel=1e-3)


def test_item_remembers_only_its_last_signal_ids() -> None:
    state = None
    for number in range(5):
        state = apply_item_event(state, event(f"e{number}", T0 + number), dedupe_size=3)
    assert state is not None
    state = apply_item_event(state, event("e0", T0), dedupe_size=3)
    state = apply_item_event(state, event("e4", T0 + 4), dedupe_size=3)

    assert state.counts == {"view": 6}
    assert state.recent_ids.ids() == ["e3", "e4", "e0"]
