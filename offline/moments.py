"""Item signals at any moment of an event log, for per-user moments offline.

`signals_snapshot` computes the item tables at one moment; ranker training and the served-path
benchmark need them at each list's own moment (just before its target interaction), as serving
would have read them then. An `ItemTimeline` holds every item's events in time order and gives
the raw signal columns of the whole catalog at any moment in a few vectorised searches, with
the same windows as `signals_snapshot` (1 hour, 24 hours, the week before them, all time).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from models.features import FIELD, ItemColumns
from models.types import ItemSignals
from offline.served import OfflineWorld
from offline.views import DAY, HOUR

TYPED = {"views_24h": "view", "clicks_24h": "click", "purchases_24h": "purchase"}
"""Signal columns counting one event type over the last 24 hours."""


@dataclass(frozen=True)
class Keyed:
    """Sorted event keys `row * span + (time - start)` and where each catalog row's events begin."""

    keys: np.ndarray
    first: np.ndarray


@dataclass(frozen=True)
class ItemTimeline:
    """Every catalog item's events in time order (all of them, then one set per counted event
    type), read at any moment by binary search."""

    every: Keyed
    times: np.ndarray
    typed: dict[str, Keyed]
    start: float
    span: float
    rows: np.ndarray

    def counts(self, keyed: Keyed, at: float) -> np.ndarray:
        """Per catalog row, how many of `keyed`'s events fall strictly before `at`."""
        offset = min(max(at - self.start, 0.0), self.span - 1.0)
        found = np.searchsorted(keyed.keys, self.rows * self.span + offset, "left")
        return np.asarray(found - keyed.first)


def item_timeline(events: pl.DataFrame, index: dict[str, int]) -> ItemTimeline:
    """The timeline of `events` over catalog rows `index` (events of other items are left out)."""
    ids = events["item_id"].cast(pl.String)
    rows = ids.replace_strict(index, default=-1, return_dtype=pl.Int64).to_numpy()
    times = events["timestamp"].cast(pl.Float64).to_numpy()
    kinds = events["type"].cast(pl.String).to_numpy()
    known = rows >= 0
    rows, times, kinds = rows[known], times[known], kinds[known]
    start = float(times.min()) if len(times) else 0.0
    span = (float(times.max()) - start if len(times) else 0.0) + 10 * DAY
    keys = rows * span + (times - start)
    order = np.argsort(keys, kind="stable")
    catalog = np.arange(len(index), dtype=np.float64)

    def keyed(sorted_keys: np.ndarray) -> Keyed:
        return Keyed(sorted_keys, np.searchsorted(sorted_keys, catalog * span, "left"))

    typed = {name: keyed(np.sort(keys[kinds == kind])) for name, kind in TYPED.items()}
    return ItemTimeline(keyed(keys[order]), times[order], typed, start, span, catalog)


def signal_values(timeline: ItemTimeline, at: float, values: np.ndarray) -> np.ndarray:
    """A copy of the catalog's raw values (ITEM_FIELDS) with the windowed counts, trend and last
    event as the item tables would have held them at `at`, from events strictly before it
    (impressions and arms are the world's: the log holds no impressions)."""
    out = values.copy()
    count, keyed = timeline.counts, timeline.every
    every, before_day = count(keyed, at), count(keyed, at - DAY)
    day, week = every - before_day, before_day - count(keyed, at - 8 * DAY)
    for name, typed in timeline.typed.items():
        if len(typed.keys):
            out[:, FIELD[name]] = count(typed, at) - count(typed, at - DAY)
        else:
            out[:, FIELD[name]] = 0.0
    out[:, FIELD["events_1h"]] = every - count(keyed, at - HOUR)
    out[:, FIELD["events_all"]] = every
    out[:, FIELD["trending"]] = day / (1.0 + week / 7.0)
    out[:, FIELD["last_event_at"]] = _last_times(timeline, every)
    return out


def _last_times(timeline: ItemTimeline, every: np.ndarray) -> np.ndarray:
    """Per catalog row, the time of the last of its first `every` events (NaN for none)."""
    if not len(timeline.times):
        return np.full(len(every), np.nan)
    last = np.maximum(timeline.every.first + every - 1, 0)
    return np.where(every > 0, timeline.times[last], np.nan)


def live_popularities(values: np.ndarray) -> np.ndarray:
    """`models.pools.live_popularity` of every row of raw values (0 without signals)."""
    trend = np.nan_to_num(values[:, FIELD["trending"]])
    hour = np.nan_to_num(values[:, FIELD["events_1h"]])
    every = np.nan_to_num(values[:, FIELD["events_all"]])
    return np.asarray(trend + np.log1p(hour) + 0.5 * np.log1p(every))


def world_moment(world: OfflineWorld, timeline: ItemTimeline, at: float) -> OfflineWorld:
    """The world as serving would have seen it at `at`: item signal columns, trending pool
    and trending items' signals from events before `at`; catalog rows, unexposed and
    per-category pools are the world's own."""
    pools, held = world.pools, world.pools.items
    if held is None:
        return replace(world, now=at)
    values = signal_values(timeline, at, held.values)
    popularity = live_popularities(values)
    limit = len(pools.trending)
    top = np.argsort(-popularity, kind="stable")[:limit]
    columns = ItemColumns(held.index, values, held.categories)
    signals = MomentSignals(columns)
    trending = [signals.names[row] for row in top.tolist()]
    moment = replace(pools, trending=trending, items=columns, signals=signals)
    return replace(world, pools=moment, signals=signals, now=at)


class MomentSignals(Mapping[str, ItemSignals]):
    """The ItemSignals of the catalog items with events before a moment, made from their raw
    values when asked for (a page reads a few dozen)."""

    def __init__(self, columns: ItemColumns) -> None:
        self.columns, self.names = columns, list(columns.index)
        self.present = np.flatnonzero(columns.values[:, FIELD["events_all"]] > 0)

    def __getitem__(self, item_id: str) -> ItemSignals:
        row = self.columns.index[item_id]
        values = self.columns.values[row]
        if not values[FIELD["events_all"]] > 0:
            raise KeyError(item_id)
        return _signals_of(item_id, values)

    def __iter__(self) -> Iterator[str]:
        return (self.names[row] for row in self.present.tolist())

    def __len__(self) -> int:
        return len(self.present)


def _signals_of(item_id: str, row: np.ndarray) -> ItemSignals:
    """The ItemSignals of one row of raw values."""
    last = float(row[FIELD["last_event_at"]])
    return ItemSignals(
        item_id,
        views_24h=int(row[FIELD["views_24h"]]),
        clicks_24h=int(row[FIELD["clicks_24h"]]),
        purchases_24h=int(row[FIELD["purchases_24h"]]),
        events_1h=int(row[FIELD["events_1h"]]),
        events_all=int(row[FIELD["events_all"]]),
        trending=float(row[FIELD["trending"]]),
        last_event_at=None if np.isnan(last) else last,
    )
