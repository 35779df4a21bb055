"""Item signals at any moment match the snapshot the item tables would have held then."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.pools import build_pools
from models.types import ItemMeta
from offline.moments import item_timeline, signal_values, tally, top_rows, world_moment
from offline.served import OfflineWorld
from offline.views import DAY, HOUR, signals_snapshot

TYPES = ("view", "click", "purchase", "rating")


def random_events(count: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "event_id": [f"e{n:04d}" for n in range(count)],
            "user_id": rng.choice(["u1", "u2", "u3"], count).tolist(),
            "item_id": [f"i{n}" for n in rng.integers(0, 25, count)],
            "type": rng.choice(TYPES, count).tolist(),
            "timestamp": rng.integers(0, int(12 * DAY), count).astype(float).tolist(),
        }
    )


def catalog() -> list[ItemMeta]:
    return [ItemMeta(f"i{n}", category=f"c{n % 3}") for n in range(30)]


def nan_equal(left: np.ndarray, right: np.ndarray) -> bool:
    return bool(np.allclose(np.nan_to_num(left, nan=-7.0), np.nan_to_num(right, nan=-7.0)))


@pytest.mark.parametrize("offset", [-1.0, 0.0, HOUR, 3 * DAY + 17, 9 * DAY, 20 * DAY])
def test_signal_values_match_the_snapshot_at_the_moment(offset: float) -> None:
    events = random_events(400)
    end = float(events["timestamp"].max()) + 1.0
    base = build_pools(catalog(), signals_snapshot(events, end).get, 10)
    assert base.items is not None
    timeline = item_timeline(events, base.items.index)
    at = float(events["timestamp"].min()) + offset
    expected = build_pools(catalog(), signals_snapshot(events, at).get, 10)
    assert expected.items is not None
    assert nan_equal(signal_values(timeline, at, base.items.values), expected.items.values)


def test_world_moment_has_the_trending_pool_and_signals_of_its_moment() -> None:
    events = random_events(400, seed=3)
    end = float(events["timestamp"].max()) + 1.0
    base = build_pools(catalog(), signals_snapshot(events, end).get, 10)
    assert base.items is not None
    world = OfflineWorld(None, {}, {}, base, end)  # type: ignore[arg-type]
    at = float(events["timestamp"].quantile(0.5))  # type: ignore[arg-type]
    moment = world_moment(world, item_timeline(events, base.items.index), at)
    snapshot = signals_snapshot(events, at)
    assert moment.now == at
    assert moment.pools.trending == build_pools(catalog(), snapshot.get, 10).trending
    for item_id in moment.pools.trending:
        found, expected = moment.signals[item_id], snapshot[item_id]
        assert (found.events_all, found.events_1h) == (expected.events_all, expected.events_1h)
        assert found.trending == pytest.approx(expected.trending)
        assert found.last_event_at == expected.last_event_at


def test_an_empty_log_gives_items_without_signals() -> None:
    empty = random_events(0)
    base = build_pools(catalog(), {}.get, 10)
    assert base.items is not None
    values = signal_values(item_timeline(empty, base.items.index), 5.0, base.items.values)
    assert nan_equal(values, base.items.values)


def test_a_tally_counts_each_row_before_any_moment_across_its_checkpoints() -> None:
    rng = np.random.default_rng(5)
    times = np.sort(rng.integers(0, 5_000, 3_000).astype(float))
    rows = rng.integers(0, 7, 3_000)
    counted = tally(times, rows, 9)
    assert len(counted.marks) > 3
    for at in [-1.0, 0.0, *rng.uniform(0, 5_000, 40).tolist(), times[1_024], 6_000.0]:
        expected = np.bincount(rows[times < at], minlength=9)
        assert counted.counts(at).tolist() == expected.tolist()


@pytest.mark.parametrize("limit", [0, 1, 5, 37, 200, 500])
def test_top_rows_are_the_first_rows_of_a_stable_sort(limit: int) -> None:
    scores = np.random.default_rng(limit).integers(0, 12, 300).astype(float)
    expected = np.argsort(-scores, kind="stable")[:limit]
    assert top_rows(scores, limit).tolist() == expected.tolist()
