"""Candidate generators, each labelling its items with a source, and the merge between them.

Training (ranker labels) and serving call the same `generate_set`, so they cannot drift. Each
source answers with columns (ids, scores, anchors) and the merge works on arrays: hundreds of
candidates cost a few numpy calls, not hundreds of Python objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import TypeVar

import numpy as np

from models.bundle import ModelBundle, user_vector
from models.types import Candidate, MetaLookup, SignalsLookup, UserView

SOURCES: tuple[str, ...] = ("next", "item2item", "als", "rebuy", "content", "trending", "explore")
"""Every source label; earlier ones win ties in the merge (they are more specific)."""
SOURCE_ORDER = {source: position for position, source in enumerate(SOURCES)}
DEFAULT_SHARES: dict[str, float] = {
    "als": 0.5,
    "item2item": 0.2,
    "next": 0.2,
    "content": 0.15,
    "trending": 0.15,
    "rebuy": 0.05,
    "explore": 0.05,
}
DEFAULT_SOURCE_WEIGHTS: dict[str, float] = {
    "next": 1.0,
    "item2item": 0.9,
    "als": 1.0,
    "rebuy": 1.0,
    "content": 0.6,
    "trending": 0.5,
    "explore": 0.3,
}
RECENCY_STEP = 0.8
T = TypeVar("T")
Neighbours = Callable[[str, int], tuple[list[str], np.ndarray]]


@dataclass(frozen=True, slots=True)
class SourceList:
    """One list to merge as columns: item ids, raw scores, source labels and anchors."""

    ids: list[str]
    scores: np.ndarray
    sources: list[str]
    anchors: list[str | None]

    @classmethod
    def of_source(
        cls,
        source: str,
        ids: list[str],
        scores: np.ndarray,
        anchors: list[str | None] | None = None,
    ) -> SourceList:
        """Every entry from `source`; no anchors unless given."""
        held: list[str | None] = [None] * len(ids) if anchors is None else anchors
        return cls(ids, np.asarray(scores, dtype=np.float64), [source] * len(ids), held)

    @classmethod
    def empty(cls, source: str) -> SourceList:
        """A source with nothing to propose."""
        return cls.of_source(source, [], np.empty(0))

    @classmethod
    def of(cls, candidates: Sequence[Candidate]) -> SourceList:
        """Columns of Candidate objects."""
        scores = np.array([c.score for c in candidates], dtype=np.float64)
        return cls(
            [c.item_id for c in candidates],
            scores,
            [c.source for c in candidates],
            [c.anchor_item_id for c in candidates],
        )


@dataclass(frozen=True, slots=True)
class CandidateSet:
    """Merged candidates as columns, best first: what features and ranking read.

    `scores` is the merge's merit; `source_scores[i, j]` the raw score source SOURCES[j] gave
    item i (NaN where it did not propose it).
    """

    ids: list[str]
    sources: list[str]
    scores: np.ndarray
    anchors: list[str | None]
    source_scores: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: Sequence[int] | np.ndarray) -> CandidateSet:
        """The candidates at `rows`, in that order."""
        picked = np.asarray(rows, dtype=np.int64)
        return CandidateSet(
            _pick(self.ids, picked),
            _pick(self.sources, picked),
            self.scores[picked],
            _pick(self.anchors, picked),
            self.source_scores[picked],
        )

    def head(self, n: int) -> CandidateSet:
        """The first n candidates."""
        return self if n >= len(self) else self.take(np.arange(n))

    def candidate(self, row: int, score: float | None = None) -> Candidate:
        """Candidate `row` as an object (with `score` instead of the merit when given)."""
        present = ~np.isnan(self.source_scores[row])
        scores = {
            SOURCES[j]: float(self.source_scores[row, j]) for j in np.flatnonzero(present).tolist()
        }
        value = float(self.scores[row]) if score is None else score
        return Candidate(self.ids[row], self.sources[row], value, self.anchors[row], scores)

    def candidates(self) -> list[Candidate]:
        """Every candidate as an object, best first."""
        return [self.candidate(row) for row in range(len(self))]

    @classmethod
    def of(cls, candidates: Sequence[Candidate]) -> CandidateSet:
        """Columns of Candidate objects (sources outside SOURCES keep no score column)."""
        table = np.full((len(candidates), len(SOURCES)), np.nan)
        for row, found in enumerate(candidates):
            for source, score in found.source_scores.items():
                table[row, SOURCE_ORDER[source]] = score
        columns = SourceList.of(candidates)
        return cls(columns.ids, columns.sources, columns.scores, columns.anchors, table)


def _merits(found: SourceList, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Rank within the list (best score first) turned into 1 .. towards 0, times the weight."""
    count = len(found.ids)
    ranks = np.empty(count, dtype=np.float64)
    ranks[np.argsort(-found.scores, kind="stable")] = np.arange(count)
    if len(set(found.sources)) == 1:
        return (1.0 - ranks / count) * weights.get(found.sources[0], 1.0), ranks
    weight = np.array(list(map(weights.get, found.sources, repeat(1.0))))
    return (1.0 - ranks / count) * weight, ranks


def _by_merit(ids: list[str], merit: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Positions sorted by merit (best first), then source order, then item id."""
    ranked = np.lexsort((order, -merit))
    tied = (np.diff(merit[ranked]) == 0) & (np.diff(order[ranked]) == 0)
    if not tied.any():
        return ranked
    return np.lexsort((np.array(ids), order, -merit))


def merge_lists(
    lists: Sequence[SourceList], exclude: frozenset[str], weights: dict[str, float]
) -> CandidateSet:
    """Dedupe by item, best merit first (ties: earlier source, then item id); see `merge`."""
    kept = [found for found in lists if found.ids]
    if not kept:
        return CandidateSet([], [], np.empty(0), [], np.empty((0, len(SOURCES))))
    merits, ranks = zip(*(_merits(found, weights) for found in kept), strict=True)
    ids = [item for found in kept for item in found.ids]
    sources = [source for found in kept for source in found.sources]
    anchors = [anchor for found in kept for anchor in found.anchors]
    offsets = np.cumsum([0] + [len(found.ids) for found in kept[:-1]])
    merit = np.concatenate(merits)
    rank = np.concatenate([r + offset for r, offset in zip(ranks, offsets, strict=True)])
    raw = np.concatenate([found.scores for found in kept])
    order = np.concatenate([np.full(len(f.ids), SOURCE_ORDER[f.sources[0]]) for f in kept])
    if any(len(set(found.sources)) > 1 for found in kept):
        order = np.fromiter(map(SOURCE_ORDER.__getitem__, sources), np.int64, len(sources))
    if exclude:
        keep = np.flatnonzero(~np.fromiter(map(exclude.__contains__, ids), bool, len(ids)))
        ids, sources, anchors = _pick(ids, keep), _pick(sources, keep), _pick(anchors, keep)
        merit, rank, raw, order = merit[keep], rank[keep], raw[keep], order[keep]
        if not ids:
            return CandidateSet([], [], np.empty(0), [], np.empty((0, len(SOURCES))))
    slot = {item: position for position, item in enumerate(dict.fromkeys(ids))}
    item = np.fromiter(map(slot.__getitem__, ids), np.int64, len(ids))
    best = np.lexsort((rank, order, -merit, item))  # rank: the order the items were met in
    first = best[np.r_[True, item[best][1:] != item[best][:-1]]]
    table = np.full((len(slot), len(SOURCES)), np.nan)
    table[item, order] = -np.inf
    np.fmax.at(table, (item, order), raw)
    final = first[_by_merit(_pick(ids, first), merit[first], order[first])]
    return CandidateSet(
        _pick(ids, final),
        _pick(sources, final),
        merit[final],
        _pick(anchors, final),
        table[item[final]],
    )


@dataclass(frozen=True)
class CandidateConfig:
    """Knobs of generation; `trending_items` and `explore_pool` are item ids the caller supplies.

    Online they come from the item tables, offline from a lake snapshot. Without them trending
    falls back to the bundle's popularity and exploration to its least popular items.
    """

    shares: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SHARES))
    source_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SOURCE_WEIGHTS))
    recent_items: int = 5
    rebuy: bool = False
    trending_items: Sequence[str] = ()
    explore_pool: Sequence[str] = ()
    explore_max_impressions: float = 50.0
    exclude: frozenset[str] = frozenset()


@dataclass
class _Context:
    bundle: ModelBundle | None
    user: UserView
    signals: SignalsLookup
    config: CandidateConfig
    now: float
    recent: list[str]


def recent_items(user: UserView, limit: int) -> list[str]:
    """The user's most recent distinct items, newest first."""
    ordered = sorted(user.history, key=lambda event: event.timestamp, reverse=True)
    seen: list[str] = []
    for event in ordered:
        if event.item_id not in seen:
            seen.append(event.item_id)
            if len(seen) == limit:
                break
    return seen


def _spare(ctx: _Context, quota: int) -> int:
    """Extra items to fetch so that excluded ones do not empty a source."""
    return min(len(ctx.config.exclude), 3 * quota)


def _pick(values: list[T], rows: np.ndarray) -> list[T]:
    return list(map(values.__getitem__, rows.tolist()))


def _from_als(ctx: _Context, quota: int) -> SourceList:
    if ctx.bundle is None:
        return SourceList.empty("als")
    vector = user_vector(ctx.bundle, ctx.user, ctx.now)
    if vector is None:
        return SourceList.empty("als")
    rows, scores = ctx.bundle.als_retriever.by_vector(vector, quota + _spare(ctx, quota))
    return SourceList.of_source("als", _pick(ctx.bundle.item_names, rows), scores)


def _per_anchor(ctx: _Context, quota: int, neighbours: Neighbours, source: str) -> SourceList:
    if not ctx.recent:
        return SourceList.empty(source)
    per_anchor = max(quota // len(ctx.recent), 1) + 2
    ids: list[str] = []
    scores: list[np.ndarray] = []
    anchors: list[str | None] = []
    for position, anchor in enumerate(ctx.recent):
        found, found_scores = neighbours(anchor, per_anchor)
        ids.extend(found)
        scores.append(found_scores.astype(np.float64) * RECENCY_STEP**position)
        anchors.extend([anchor] * len(found))
    return SourceList.of_source(source, ids, np.concatenate(scores), anchors)


def _row_neighbours(
    index: dict[str, int], names: list[str], search: Callable[[int, int], tuple[np.ndarray, ...]]
) -> Neighbours:
    def neighbours(anchor: str, k: int) -> tuple[list[str], np.ndarray]:
        row = index.get(anchor)
        if row is None:
            return [], np.empty(0)
        rows, scores = search(row, k)
        return _pick(names, rows), scores

    return neighbours


def _from_item2item(ctx: _Context, quota: int) -> SourceList:
    bundle = ctx.bundle
    if bundle is None:
        return SourceList.empty("item2item")
    search = bundle.als_retriever.by_item
    neighbours = _row_neighbours(bundle.item_index, bundle.item_names, search)
    return _per_anchor(ctx, quota, neighbours, "item2item")


def _from_next(ctx: _Context, quota: int) -> SourceList:
    bundle = ctx.bundle
    if bundle is None:
        return SourceList.empty("next")

    def followers(row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows, scores = bundle.next_items[row][:k], bundle.next_scores[row][:k]
        known = rows >= 0
        return rows[known], scores[known]

    neighbours = _row_neighbours(bundle.item_index, bundle.item_names, followers)
    return _per_anchor(ctx, quota, neighbours, "next")


def _from_content(ctx: _Context, quota: int) -> SourceList:
    bundle = ctx.bundle
    if bundle is None or bundle.content_retriever is None:
        return SourceList.empty("content")
    search = bundle.content_retriever.by_item
    neighbours = _row_neighbours(bundle.content_index, bundle.content_names, search)
    return _per_anchor(ctx, quota, neighbours, "content")


def _from_rebuy(ctx: _Context, quota: int) -> SourceList:
    if not ctx.config.rebuy:
        return SourceList.empty("rebuy")
    frequent = sorted(ctx.user.purchased.items(), key=lambda kv: (-kv[1], kv[0]))[:quota]
    ids = [item_id for item_id, _ in frequent]
    counts = np.array([count for _, count in frequent], dtype=np.float64)
    return SourceList.of_source("rebuy", ids, counts, list(ids))


def _from_trending(ctx: _Context, quota: int) -> SourceList:
    ids = list(ctx.config.trending_items[:quota])
    if ids or ctx.bundle is None:
        scores = np.empty(len(ids))
        for rank, item_id in enumerate(ids):
            live = ctx.signals(item_id)
            scores[rank] = (
                live.trending if live is not None and live.trending > 0 else 1 / (rank + 1)
            )
        return SourceList.of_source("trending", ids, scores)
    rows = ctx.bundle.by_popularity[: quota + _spare(ctx, quota)]
    popularity = ctx.bundle.popularity[rows].astype(np.float64)
    return SourceList.of_source("trending", _pick(ctx.bundle.item_names, rows), popularity)


def _from_explore(ctx: _Context, quota: int) -> SourceList:
    pool: Sequence[str] = ctx.config.explore_pool
    if not pool and ctx.bundle is not None:
        pool = _pick(ctx.bundle.item_names, ctx.bundle.by_rarity[: 4 * quota])
    ids: list[str] = []
    scores: list[float] = []
    for item_id in pool:
        live = ctx.signals(item_id)
        impressions = 0.0 if live is None else live.impressions
        if impressions < ctx.config.explore_max_impressions:
            ids.append(item_id)
            scores.append(1.0 / (1.0 + impressions))
        if len(ids) == quota:
            break
    return SourceList.of_source("explore", ids, np.array(scores, dtype=np.float64))


GENERATORS: dict[str, Callable[[_Context, int], SourceList]] = {
    "als": _from_als,
    "item2item": _from_item2item,
    "next": _from_next,
    "content": _from_content,
    "rebuy": _from_rebuy,
    "trending": _from_trending,
    "explore": _from_explore,
}


def merge(
    lists: Sequence[list[Candidate]],
    exclude: frozenset[str] = frozenset(),
    source_weights: dict[str, float] | None = None,
) -> list[Candidate]:
    """Dedupe by item, best first. An item keeps its best source and that source's anchor, where
    best is the rank within the source (1 first, towards 0 last) times the source's weight,
    ties going to the earlier of SOURCES; every source's raw score stays in `source_scores`."""
    weights = DEFAULT_SOURCE_WEIGHTS if source_weights is None else source_weights
    columns = [SourceList.of(candidates) for candidates in lists]
    return merge_lists(columns, exclude, weights).candidates()


def generate_set(
    bundle: ModelBundle | None,
    user: UserView,
    signals: SignalsLookup,
    now: float,
    n: int = 300,
    *,
    config: CandidateConfig | None = None,
) -> CandidateSet:
    """Up to n merged candidates from every source, best first, as columns.

    With `bundle=None` (before the first training) only model-free sources answer: trending from
    `config.trending_items` scored by live signals, exploration from `config.explore_pool`,
    and rebuy when enabled. Catalog filters (stock, deletions) are the rules' job.
    """
    config = config or CandidateConfig()
    recent = recent_items(user, config.recent_items)
    ctx = _Context(bundle, user, signals, config, now, recent)
    lists = []
    for source in SOURCES:
        share = config.shares.get(source, 0.0)
        if share > 0:
            lists.append(GENERATORS[source](ctx, max(math.ceil(share * n), 1)))
    return merge_lists(lists, config.exclude, config.source_weights).head(n)


def generate(
    bundle: ModelBundle | None,
    user: UserView,
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
    n: int = 300,
    *,
    config: CandidateConfig | None = None,
) -> list[Candidate]:
    """`generate_set` as Candidate objects; `meta` is accepted for symmetry with features."""
    del meta
    return generate_set(bundle, user, signals, now, n, config=config).candidates()
