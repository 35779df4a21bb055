"""Item signals at any moment of an event log, for per-user moments offline.

`signals_snapshot` computes the item tables at one moment; ranker training and the served-path
benchmark need them at each list's own moment (just before its target interaction), as serving
would have read them then. An `ItemTimeline` holds the events in time order with every item's
count at checkpoints, and gives the raw signal columns of the whole catalog at any moment from
the checkpoint before it and the few events after, with the same windows as `signals_snapshot`
(1 hour, 24 hours, the week before them, all time).
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


CHECKPOINT_CELLS = 16_000_000
"""Most per-row counts a tally keeps at its checkpoints (int32: 64 MB)."""
MIN_STRIDE = 256
"""Fewest events between two checkpoints."""


@dataclass(frozen=True)
class Tally:
    """Events of one kind in time order, with every catalog row's count at checkpoints every
    `stride` events: a row's count before any moment is its count at the checkpoint before
    that moment plus the few events after it."""

    times: np.ndarray
    rows: np.ndarray
    stride: int
    marks: np.ndarray

    def counts(self, at: float) -> np.ndarray:
        """Per catalog row, how many of these events fall strictly before `at`."""
        end = int(np.searchsorted(self.times, at, "left"))
        mark = end // self.stride
        found: np.ndarray = self.marks[mark].astype(np.int64)
        found += np.bincount(self.rows[mark * self.stride : end], minlength=len(found))
        return found


def tally(times: np.ndarray, rows: np.ndarray, catalog_size: int) -> Tally:
    """The tally of events at `times` (sorted) on catalog `rows`."""
    cells = max(len(times), 1) * max(catalog_size, 1)
    stride = max(MIN_STRIDE, -(-cells // CHECKPOINT_CELLS))
    marks = np.zeros((len(times) // stride + 1, catalog_size), dtype=np.int32)
    for mark in range(1, len(marks)):
        chunk = rows[(mark - 1) * stride : mark * stride]
        marks[mark] = marks[mark - 1] + np.bincount(chunk, minlength=catalog_size)
    return Tally(times, rows, stride, marks)


@dataclass(frozen=True)
class ItemTimeline:
    """Every catalog item's events (all of them, then one tally per counted event type) and
    each row's event times in order, read at any moment."""

    every: Tally
    typed: dict[str, Tally]
    row_times: np.ndarray
    first: np.ndarray
    names: list[str]


def item_timeline(events: pl.DataFrame, index: dict[str, int]) -> ItemTimeline:
    """The timeline of `events` over catalog rows `index` (events of other items are left out)."""
    ids = events["item_id"].cast(pl.String)
    rows = ids.replace_strict(index, default=-1, return_dtype=pl.Int64).to_numpy()
    times = events["timestamp"].cast(pl.Float64).to_numpy()
    kinds = events["type"].cast(pl.String).to_numpy()
    known = rows >= 0
    order = np.argsort(times[known], kind="stable")
    rows, times, kinds = rows[known][order], times[known][order], kinds[known][order]
    size = len(index)
    typed = {
        name: tally(times[kinds == kind], rows[kinds == kind], size) for name, kind in TYPED.items()
    }
    by_row = np.argsort(rows, kind="stable")
    first = np.searchsorted(rows[by_row], np.arange(size), "left")
    names = [""] * size
    for name, row in index.items():
        names[row] = name
    return ItemTimeline(tally(times, rows, size), typed, times[by_row], first, names)


def signal_values(timeline: ItemTimeline, at: float, values: np.ndarray) -> np.ndarray:
    """A copy of the catalog's raw values (ITEM_FIELDS) with the windowed counts, trend and last
    event as the item tables would have held them at `at`, from events strictly before it
    (impressions and arms are the world's: the log holds no impressions)."""
    out = values.copy()
    every_tally = timeline.every
    every, before_day = every_tally.counts(at), every_tally.counts(at - DAY)
    day, week = every - before_day, before_day - every_tally.counts(at - 8 * DAY)
    for name, typed in timeline.typed.items():
        out[:, FIELD[name]] = typed.counts(at) - typed.counts(at - DAY)
    out[:, FIELD["events_1h"]] = every - every_tally.counts(at - HOUR)
    out[:, FIELD["events_all"]] = every
    out[:, FIELD["trending"]] = day / (1.0 + week / 7.0)
    out[:, FIELD["last_event_at"]] = _last_times(timeline, every)
    return out


def _last_times(timeline: ItemTimeline, every: np.ndarray) -> np.ndarray:
    """Per catalog row, the time of the last of its first `every` events (NaN for none)."""
    if not len(timeline.row_times):
        return np.full(len(every), np.nan)
    last = np.maximum(timeline.first + every - 1, 0)
    return np.where(every > 0, timeline.row_times[last], np.nan)


def live_popularities(values: np.ndarray) -> np.ndarray:
    """`models.pools.live_popularity` of every row of raw values (0 without signals)."""
    trend = np.nan_to_num(values[:, FIELD["trending"]])
    hour = np.nan_to_num(values[:, FIELD["events_1h"]])
    every = np.nan_to_num(values[:, FIELD["events_all"]])
    return np.asarray(trend + np.log1p(hour) + 0.5 * np.log1p(every))


def top_rows(scores: np.ndarray, limit: int) -> np.ndarray:
    """The rows of the `limit` highest scores, highest first, ties in row order (what a stable
    sort of the negated scores starts with), without sorting every row."""
    if limit >= len(scores):
        return np.argsort(-scores, kind="stable")
    if limit <= 0:
        return np.empty(0, dtype=np.int64)
    kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
    above = np.flatnonzero(scores > kth)
    chosen = np.concatenate([above, np.flatnonzero(scores == kth)[: limit - len(above)]])
    return chosen[np.argsort(-scores[chosen], kind="stable")]


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
    columns = ItemColumns(held.index, values, held.categories)
    signals = MomentSignals(columns, timeline.names)
    trending = [timeline.names[row] for row in top_rows(popularity, limit).tolist()]
    moment = replace(pools, trending=trending, items=columns, signals=signals)
    return replace(world, pools=moment, signals=signals, now=at)


class MomentSignals(Mapping[str, ItemSignals]):
    """The ItemSignals of the catalog items with events before a moment, made from their raw
    values when asked for (a page reads a few dozen)."""

    def __init__(self, columns: ItemColumns, names: list[str]) -> None:
        self.columns, self.names = columns, names
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
