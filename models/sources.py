"""Candidate sources: each answers one request with columns (ids, scores, anchors).

`models.candidates` merges their lists; training (ranker labels) and serving call the same
code, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.bundle import ModelBundle
from models.content_live import LiveContent, content_neighbour_rows
from models.fold import UserFold
from models.source_list import SourceList
from models.types import SignalsLookup, UserView
from models.weights import EventWeighting

SOURCES: tuple[str, ...] = (
    "sequence",
    "next",
    "item2item",
    "als",
    "ease",
    "rebuy",
    "content",
    "trending",
    "explore",
)
"""Every source label; earlier ones win ties in the merge (they are more specific)."""
SOURCE_ORDER = {source: position for position, source in enumerate(SOURCES)}
DEFAULT_SHARES: dict[str, float] = {
    "sequence": 0.5,
    "als": 0.5,
    "ease": 0.5,
    "item2item": 0.2,
    "next": 0.2,
    "content": 0.15,
    "trending": 0.15,
    "rebuy": 0.05,
    "explore": 0.05,
}
DEFAULT_SOURCE_WEIGHTS: dict[str, float] = {
    "sequence": 1.0,
    "next": 1.0,
    "item2item": 0.9,
    "als": 1.0,
    "ease": 1.0,
    "rebuy": 1.0,
    "content": 0.6,
    "trending": 0.5,
    "explore": 0.3,
}
RECENCY_STEP = 0.8
Neighbours = Callable[[str, int], tuple[list[str], np.ndarray, np.ndarray]]


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
    live_content: LiveContent | None = None
    """Content vectors of items added after training (`models.content_live`)."""


@dataclass
class SourceContext:
    """What every source reads for one request."""

    bundle: ModelBundle | None
    user: UserView
    signals: SignalsLookup
    config: CandidateConfig
    now: float
    recent: list[str]
    fold: UserFold


def recent_items(user: UserView, limit: int, weighting: EventWeighting | None = None) -> list[str]:
    """The user's most recent distinct items, newest first; with `weighting`, an item whose
    latest event is a low rating is left out (it must never lead to a recommendation)."""
    ordered = sorted(user.history, key=lambda event: event.timestamp, reverse=True)
    seen: dict[str, bool] = {}
    for event in ordered:
        if event.item_id not in seen:
            seen[event.item_id] = weighting is None or not weighting.dislikes(
                event.type, event.value
            )
            if sum(seen.values()) == limit:
                break
    return [item for item, kept in seen.items() if kept]


def _spare(ctx: SourceContext, quota: int) -> int:
    """Extra items to fetch so that excluded ones do not empty a source."""
    return min(len(ctx.config.exclude), 3 * quota)


def _from_als(ctx: SourceContext, quota: int) -> SourceList:
    if ctx.bundle is None:
        return SourceList.empty("als")
    vector = ctx.fold.vector
    if vector is None:
        return SourceList.empty("als")
    rows, scores = ctx.bundle.als_retriever.by_vector(vector, quota + _spare(ctx, quota))
    return SourceList.of_source("als", ctx.bundle.names_at(rows), scores, rows=rows)


def _from_ease(ctx: SourceContext, quota: int) -> SourceList:
    found = ctx.fold.ease
    if ctx.bundle is None or found is None:
        return SourceList.empty("ease")
    top = _top_rows(found.scores, found.history, quota + _spare(ctx, quota))
    names = ctx.bundle.names_at(top)
    return SourceList.of_source("ease", names, found.scores[top], rows=top)


def _top_rows(scores: np.ndarray, barred: np.ndarray, n: int) -> np.ndarray:
    """Rows of the `n` highest positive scores, best first, never a `barred` row."""
    scores = scores.copy()
    scores[barred] = -np.inf
    n = min(n, len(scores))
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    return top[scores[top] > 0]  # no evidence from the history: not a candidate


def _from_sequence(ctx: SourceContext, quota: int) -> SourceList:
    found = ctx.fold.sequence
    if ctx.bundle is None or found is None:
        return SourceList.empty("sequence")
    top = _top_rows(found.scores, found.recent[found.recent >= 0], quota + _spare(ctx, quota))
    names = ctx.bundle.names_at(top)
    return SourceList.of_source("sequence", names, found.scores[top], rows=top)


def _per_anchor(ctx: SourceContext, quota: int, neighbours: Neighbours, source: str) -> SourceList:
    if not ctx.recent:
        return SourceList.empty(source)
    per_anchor = max(quota // len(ctx.recent), 1) + 2
    ids: list[str] = []
    scores: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    anchors: list[str | None] = []
    for position, anchor in enumerate(ctx.recent):
        found, found_scores, found_rows = neighbours(anchor, per_anchor)
        ids.extend(found)
        scores.append(found_scores.astype(np.float64) * RECENCY_STEP**position)
        rows.append(found_rows)
        anchors.extend([anchor] * len(found))
    return SourceList.of_source(
        source, ids, np.concatenate(scores), anchors, np.concatenate(rows).astype(np.int64)
    )


RowSearch = Callable[[int, int], tuple[np.ndarray, ...]]


def _per_anchor_rows(
    ctx: SourceContext,
    quota: int,
    found: tuple[dict[str, int], np.ndarray, RowSearch],
    source: str,
    item_rows: np.ndarray | None = None,
) -> SourceList:
    """`_per_anchor` over a search by row of `index` (`found`: index, names by row, search),
    every anchor's answers named at once; `item_rows` turns those rows into bundle rows
    (None: they are bundle rows)."""
    index, names, search = found
    if not ctx.recent:
        return SourceList.empty(source)
    per_anchor = max(quota // len(ctx.recent), 1) + 2
    rows: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    scores: list[np.ndarray] = [np.empty(0)]
    anchors: list[str | None] = []
    for position, anchor in enumerate(ctx.recent):
        row = index.get(anchor)
        if row is None:
            continue
        found_rows, found_scores = search(row, per_anchor)
        rows.append(found_rows)
        scores.append(found_scores.astype(np.float64) * RECENCY_STEP**position)
        anchors.extend([anchor] * len(found_rows))
    at = np.concatenate(rows)
    bundle_rows = at if item_rows is None else item_rows[at]
    return SourceList.of_source(
        source, names[at].tolist(), np.concatenate(scores), anchors, bundle_rows.astype(np.int64)
    )


def _from_item2item(ctx: SourceContext, quota: int) -> SourceList:
    bundle = ctx.bundle
    if bundle is None:
        return SourceList.empty("item2item")
    search = (bundle.item_index, bundle.item_name_array, bundle.als_retriever.by_item)
    return _per_anchor_rows(ctx, quota, search, "item2item")


def _from_next(ctx: SourceContext, quota: int) -> SourceList:
    bundle = ctx.bundle
    if bundle is None:
        return SourceList.empty("next")

    def followers(row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows, scores = bundle.next_items[row][:k], bundle.next_scores[row][:k]
        known = rows >= 0
        return rows[known], scores[known]

    search = (bundle.item_index, bundle.item_name_array, followers)
    return _per_anchor_rows(ctx, quota, search, "next")


def _from_content(ctx: SourceContext, quota: int) -> SourceList:
    bundle = ctx.bundle
    if bundle is None:
        return SourceList.empty("content")
    if ctx.config.live_content is not None:  # the bundle's content items plus the live ones
        live = content_neighbour_rows(bundle, ctx.config.live_content)
        return _per_anchor(ctx, quota, live, "content")
    if bundle.content_retriever is None:
        return SourceList.empty("content")
    search = (bundle.content_index, bundle.content_name_array, bundle.content_retriever.by_item)
    return _per_anchor_rows(ctx, quota, search, "content", bundle.item_row_of_content)


def _from_rebuy(ctx: SourceContext, quota: int) -> SourceList:
    if not ctx.config.rebuy:
        return SourceList.empty("rebuy")
    frequent = sorted(ctx.user.purchased.items(), key=lambda kv: (-kv[1], kv[0]))[:quota]
    ids = [item_id for item_id, _ in frequent]
    counts = np.array([count for _, count in frequent], dtype=np.float64)
    return SourceList.of_source("rebuy", ids, counts, list(ids))


def _from_trending(ctx: SourceContext, quota: int) -> SourceList:
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
    names = ctx.bundle.names_at(rows)
    return SourceList.of_source("trending", names, popularity, rows=rows)


def _from_explore(ctx: SourceContext, quota: int) -> SourceList:
    pool: Sequence[str] = ctx.config.explore_pool
    if not pool and ctx.bundle is not None:
        pool = ctx.bundle.names_at(ctx.bundle.by_rarity[: 4 * quota])
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


GENERATORS: dict[str, Callable[[SourceContext, int], SourceList]] = {
    "sequence": _from_sequence,
    "als": _from_als,
    "ease": _from_ease,
    "item2item": _from_item2item,
    "next": _from_next,
    "content": _from_content,
    "rebuy": _from_rebuy,
    "trending": _from_trending,
    "explore": _from_explore,
}
