"""The live catalog pools: trending, unexposed and per-category items, and every item's raw
values, from one sweep of the whole catalog.

A `PoolCache` rebuilds them in a background thread once they are stale, and never on the request
path. The sweep sleeps between chunks long enough to use at most SWEEP_DUTY of a core, so
requests keep the interpreter.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np

from models.features import FIELD, ITEM_FIELDS, ItemColumns, item_columns, item_values
from models.types import ItemMeta, ItemSignals, MetaLookup, SignalsLookup

CatalogLookup = Callable[[], Iterable[ItemMeta]]
SWEEP_CHUNK = 200
SWEEP_PAUSE_S = 0.001
SWEEP_DUTY = 0.25
"""Share of the interpreter a background sweep may hold while it runs."""
SWEEP_SHARE = 0.05
"""At most this share of the time goes to sweeps: the refresh period grows with sweep time."""
log = logging.getLogger(__name__)


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
    signals: dict[str, ItemSignals] = field(default_factory=dict)

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


def build_pools(
    items: Iterable[ItemMeta],
    signals: SignalsLookup,
    limit: int,
    pause: Callable[[], None] | None = None,
) -> LivePools:
    """Sweep the catalog once: `limit` trending, `limit // 10` unexposed, `limit` per category.

    `pause` runs after every SWEEP_CHUNK items (a background sweep sleeps there). Bulk work is
    done a chunk at a time too: one C call over a million items would hold the interpreter
    for seconds, and requests with it.
    """
    swept: list[tuple[str, str, float, float]] = []
    values: list[np.ndarray] = []
    categories: list[str] = []
    held: dict[str, ItemSignals] = {}
    for chunk in _chunks(items, SWEEP_CHUNK):
        lives = [signals(item.item_id) for item in chunk]
        for item, live in zip(chunk, lives, strict=True):
            impressions = live.impressions if live is not None else 0.0
            swept.append((item.item_id, item.category, live_popularity(live), impressions))
            if live is not None:
                held[item.item_id] = live
        chunk_values, chunk_categories = item_values(chunk, lives)
        values.append(chunk_values)
        categories += chunk_categories
        if pause is not None:
            pause()
    index = {row[0]: position for position, row in enumerate(swept)}
    joined = np.concatenate(values) if values else np.empty((0, len(ITEM_FIELDS)))
    return LivePools(
        trending=[row[0] for row in heapq.nlargest(limit, swept, key=itemgetter(2))],
        unexposed=[
            row[0] for row in heapq.nsmallest(max(1, limit // 10), swept, key=itemgetter(3))
        ],
        by_category=_by_category(swept, limit),
        items=ItemColumns(index, joined, categories),
        signals=held,
    )


def _chunks(items: Iterable[ItemMeta], size: int) -> Iterator[list[ItemMeta]]:
    chunk: list[ItemMeta] = []
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


class PoolCache:
    """The latest LivePools; the first call builds them, later stale reads start a rebuild in a
    background thread and keep answering with the previous pools until it finishes."""

    def __init__(
        self,
        catalog: CatalogLookup,
        signals: SignalsLookup,
        limit: int,
        max_age_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog, self._signals, self._limit = catalog, signals, limit
        self._max_age_s, self._clock = max_age_s, clock
        self._pools: LivePools | None = None
        self._built_at = -math.inf
        self._period_s = max_age_s
        self._lock = threading.Lock()
        self._sweeping = False

    def get(self) -> LivePools:
        """Pools at most about `max_age_s` old (older while a rebuild runs)."""
        pools = self._pools
        if pools is None:
            return self._rebuild()
        if self._clock() - self._built_at > self._period_s and self._claim():
            threading.Thread(target=self._rebuild_quietly, name="pool-sweep", daemon=True).start()
        return pools

    def _claim(self) -> bool:
        with self._lock:
            claimed, self._sweeping = not self._sweeping, True
        return claimed

    def _rebuild(self, pause: Callable[[], None] | None = None) -> LivePools:
        started = time.thread_time()
        pools = build_pools(self._catalog(), self._signals, self._limit, pause)
        worked = time.thread_time() - started
        self._pools, self._built_at = pools, self._clock()
        self._period_s = max(self._max_age_s, worked / SWEEP_SHARE)
        return pools

    def _rebuild_quietly(self) -> None:
        try:
            self._rebuild(Throttle(SWEEP_DUTY))
        except Exception:  # a catalog changing under the sweep: keep the old pools, retry later
            log.warning("catalog sweep failed; keeping the previous pools", exc_info=True)
            self._built_at = self._clock()
        finally:
            self._sweeping = False


class Throttle:
    """A pause that sleeps in proportion to the CPU time used since the last one, so the
    calling thread holds at most `duty` of the interpreter."""

    def __init__(self, duty: float) -> None:
        self._ratio = (1.0 - duty) / duty
        self._mark = time.thread_time()

    def __call__(self) -> None:
        """Sleep (releasing the GIL) for the worked time times (1 - duty) / duty."""
        worked = time.thread_time() - self._mark
        time.sleep(max(SWEEP_PAUSE_S, worked * self._ratio))
        self._mark = time.thread_time()
