"""The live catalog pools: trending, unexposed and per-category items, and every item's raw
values, from one sweep of the whole catalog.

A sweep takes the catalog a chunk at a time (`PoolSweep`), so whoever runs it can give the
interpreter back between chunks; `build_pools` sweeps an iterable at once.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TypeVar

import numpy as np

from models.features import FIELD, ITEM_FIELDS, ItemColumns, item_columns, item_values
from models.types import ItemMeta, ItemSignals, MetaLookup, SignalsLookup

CatalogLookup = Callable[[], Iterable[ItemMeta]]
SWEEP_CHUNK = 200
Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What rules read of some items, as columns: raw values (ITEM_FIELDS), categories, and
    whether the catalog holds the item."""

    values: np.ndarray
    categories: list[str]
    known: np.ndarray

    def column(self, name: str) -> np.ndarray:
        """One raw value per item (NaN where unknown), by ITEM_FIELDS name."""
        return self.values[:, FIELD[name]]

    def take(self, rows: np.ndarray) -> ItemFacts:
        """The facts of the items at `rows`, in that order."""
        return ItemFacts(
            self.values[rows], [self.categories[r] for r in rows.tolist()], self.known[rows]
        )


@dataclass(frozen=True, slots=True)
class LivePools:
    """Catalog-wide lists at one moment: items by live popularity (best first), items with the
    fewest impressions (fewest first), per category its most popular (id, popularity), every
    item's raw feature values (read by ranking instead of one lookup per candidate), and the
    signals of the items that had any."""

    trending: list[str] = field(default_factory=list)
    unexposed: list[str] = field(default_factory=list)
    by_category: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    items: ItemColumns | None = None
    signals: Mapping[str, ItemSignals] = field(default_factory=dict)

    def signals_or(self, live: SignalsLookup) -> SignalsLookup:
        """Signals as the sweep saw them; `live` only for items the sweep did not meet."""
        held, index = self.signals, self.items.index if self.items is not None else {}

        def lookup(item_id: str) -> ItemSignals | None:
            found = held.get(item_id)
            if found is not None or item_id in index:
                return found
            return live(item_id)

        return lookup

    def facts(self, item_ids: Sequence[str], signals: SignalsLookup, meta: MetaLookup) -> ItemFacts:
        """Facts of `item_ids` from the sweep; items it did not meet are looked up live."""
        held = self.items
        rows = held.rows(item_ids) if held is not None else np.full(len(item_ids), -1)
        absent = np.flatnonzero(rows < 0).tolist()
        if held is None or absent:
            return _merged_facts(item_ids, rows, absent, held, signals, meta)
        values = held.values[rows]
        categories = list(map(held.categories.__getitem__, rows.tolist()))
        return ItemFacts(values, categories, np.ones(len(item_ids), dtype=bool))


def _merged_facts(
    item_ids: Sequence[str],
    rows: np.ndarray,
    absent: list[int],
    held: ItemColumns | None,
    signals: SignalsLookup,
    meta: MetaLookup,
) -> ItemFacts:
    ids = [item_ids[r] for r in absent]
    metas = list(map(meta, ids))
    fresh = item_columns(ids, metas, list(map(signals, ids)))
    known = np.ones(len(item_ids), dtype=bool)
    known[absent] = [item is not None for item in metas]
    if held is None:
        return ItemFacts(fresh.values, fresh.categories, known)
    values = held.values[rows]
    values[absent] = fresh.values
    categories = list(map(held.categories.__getitem__, rows.tolist()))
    for position, row in enumerate(absent):
        categories[row] = fresh.categories[position]
    return ItemFacts(values, categories, known)


def live_popularity(live: ItemSignals | None) -> float:
    """Trend plus log volumes of the last hour and all time (0 for an item without signals)."""
    if live is None:
        return 0.0
    return live.trending + math.log1p(live.events_1h) + 0.5 * math.log1p(live.events_all)


class PoolSweep:
    """One sweep of the catalog, a chunk at a time: `add` every chunk, then take `pools()`."""

    def __init__(self, signals: SignalsLookup, limit: int) -> None:
        self.signals, self.limit = signals, limit
        self.swept: list[tuple[str, str, float, float]] = []
        self.values: list[np.ndarray] = []
        self.categories: list[str] = []
        self.held: dict[str, ItemSignals] = {}

    def add(self, chunk: list[ItemMeta]) -> None:
        """Sweep the next items of the catalog (bulk work a chunk at a time: one C call over a
        million items would hold the interpreter for seconds)."""
        lives = [self.signals(item.item_id) for item in chunk]
        for item, live in zip(chunk, lives, strict=True):
            impressions = live.impressions if live is not None else 0.0
            self.swept.append((item.item_id, item.category, live_popularity(live), impressions))
            if live is not None:
                self.held[item.item_id] = live
        chunk_values, chunk_categories = item_values(chunk, lives)
        self.values.append(chunk_values)
        self.categories += chunk_categories

    def pools(self) -> LivePools:
        """`limit` trending, `limit // 10` unexposed and `limit` per category, of the items
        swept."""
        swept, limit = self.swept, self.limit
        index = {row[0]: position for position, row in enumerate(swept)}
        joined = np.concatenate(self.values) if self.values else np.empty((0, len(ITEM_FIELDS)))
        return LivePools(
            trending=[row[0] for row in heapq.nlargest(limit, swept, key=itemgetter(2))],
            unexposed=[
                row[0] for row in heapq.nsmallest(max(1, limit // 10), swept, key=itemgetter(3))
            ],
            by_category=_by_category(swept, limit),
            items=ItemColumns(index, joined, self.categories),
            signals=self.held,
        )


def build_pools(items: Iterable[ItemMeta], signals: SignalsLookup, limit: int) -> LivePools:
    """Sweep the catalog at once: `limit` trending, `limit // 10` unexposed, `limit` per
    category."""
    sweep = PoolSweep(signals, limit)
    for chunk in chunked(items, SWEEP_CHUNK):
        sweep.add(chunk)
    return sweep.pools()


def chunked(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """`items` in lists of `size` (the last one shorter)."""
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _by_category(
    swept: list[tuple[str, str, float, float]], limit: int
) -> dict[str, list[tuple[str, float]]]:
    """Per category, its `limit` most popular (id, popularity)."""
    by_category: dict[str, list[tuple[str, float]]] = {}
    for item_id, category, popularity, _ in swept:
        by_category.setdefault(category, []).append((item_id, popularity))
    for category, members in by_category.items():
        if len(members) > limit:
            by_category[category] = heapq.nlargest(limit, members, key=itemgetter(1))
    return by_category
