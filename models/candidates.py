"""Candidate generators, each labelling its items with a source, and the merge between them.

Training (ranker labels) and serving call the same `generate`, so they cannot drift.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.bundle import ModelBundle, user_vector
from models.types import Candidate, MetaLookup, SignalsLookup, UserView

SOURCES: tuple[str, ...] = ("next", "item2item", "als", "rebuy", "content", "trending", "explore")
"""Every source label; earlier ones win ties in the merge (they are more specific)."""

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


def _from_als(ctx: _Context, quota: int) -> list[Candidate]:
    if ctx.bundle is None:
        return []
    vector = user_vector(ctx.bundle, ctx.user, ctx.now)
    if vector is None:
        return []
    rows, scores = ctx.bundle.als_retriever.by_vector(vector, quota + _spare(ctx, quota))
    ids = ctx.bundle.item_ids
    return [Candidate(str(ids[r]), "als", float(s)) for r, s in zip(rows, scores, strict=True)]


def _per_anchor(
    ctx: _Context,
    quota: int,
    neighbours: Callable[[str, int], list[tuple[str, float]]],
    source: str,
) -> list[Candidate]:
    if not ctx.recent:
        return []
    per_anchor = max(quota // len(ctx.recent), 1) + 2
    found: list[Candidate] = []
    for position, anchor in enumerate(ctx.recent):
        weight = RECENCY_STEP**position
        for item_id, score in neighbours(anchor, per_anchor):
            found.append(Candidate(item_id, source, score * weight, anchor_item_id=anchor))
    return found


def _from_item2item(ctx: _Context, quota: int) -> list[Candidate]:
    bundle = ctx.bundle
    if bundle is None:
        return []

    def neighbours(anchor: str, k: int) -> list[tuple[str, float]]:
        row = bundle.item_index.get(anchor)
        if row is None:
            return []
        rows, scores = bundle.als_retriever.by_item(row, k)
        return [(str(bundle.item_ids[r]), float(s)) for r, s in zip(rows, scores, strict=True)]

    return _per_anchor(ctx, quota, neighbours, "item2item")


def _from_next(ctx: _Context, quota: int) -> list[Candidate]:
    bundle = ctx.bundle
    if bundle is None:
        return []

    def neighbours(anchor: str, k: int) -> list[tuple[str, float]]:
        row = bundle.item_index.get(anchor)
        if row is None:
            return []
        rows, scores = bundle.next_items[row][:k], bundle.next_scores[row][:k]
        return [
            (str(bundle.item_ids[r]), float(s)) for r, s in zip(rows, scores, strict=True) if r >= 0
        ]

    return _per_anchor(ctx, quota, neighbours, "next")


def _from_content(ctx: _Context, quota: int) -> list[Candidate]:
    bundle = ctx.bundle
    if bundle is None or bundle.content_retriever is None:
        return []
    retriever = bundle.content_retriever

    def neighbours(anchor: str, k: int) -> list[tuple[str, float]]:
        row = bundle.content_index.get(anchor)
        if row is None:
            return []
        rows, scores = retriever.by_item(row, k)
        return [(str(bundle.content_ids[r]), float(s)) for r, s in zip(rows, scores, strict=True)]

    return _per_anchor(ctx, quota, neighbours, "content")


def _from_rebuy(ctx: _Context, quota: int) -> list[Candidate]:
    if not ctx.config.rebuy:
        return []
    frequent = sorted(ctx.user.purchased.items(), key=lambda kv: (-kv[1], kv[0]))[:quota]
    return [Candidate(item_id, "rebuy", float(count), item_id) for item_id, count in frequent]


def _popular_rows(bundle: ModelBundle, quota: int, lowest: bool = False) -> np.ndarray:
    order = np.argsort(bundle.popularity if lowest else -bundle.popularity, kind="stable")
    return order[:quota]


def _from_trending(ctx: _Context, quota: int) -> list[Candidate]:
    found: list[Candidate] = []
    for rank, item_id in enumerate(ctx.config.trending_items[:quota]):
        live = ctx.signals(item_id)
        score = live.trending if live is not None and live.trending > 0 else 1.0 / (rank + 1)
        found.append(Candidate(item_id, "trending", float(score)))
    if found or ctx.bundle is None:
        return found
    popularity = ctx.bundle.popularity
    rows = _popular_rows(ctx.bundle, quota + _spare(ctx, quota))
    return [Candidate(str(ctx.bundle.item_ids[r]), "trending", float(popularity[r])) for r in rows]


def _from_explore(ctx: _Context, quota: int) -> list[Candidate]:
    pool: Sequence[str] = ctx.config.explore_pool
    if not pool and ctx.bundle is not None:
        pool = [str(ctx.bundle.item_ids[r]) for r in _popular_rows(ctx.bundle, 4 * quota, True)]
    found: list[Candidate] = []
    for item_id in pool:
        live = ctx.signals(item_id)
        impressions = 0.0 if live is None else live.impressions
        if impressions < ctx.config.explore_max_impressions:
            found.append(Candidate(item_id, "explore", 1.0 / (1.0 + impressions)))
        if len(found) == quota:
            break
    return found


GENERATORS: dict[str, Callable[[_Context, int], list[Candidate]]] = {
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
    best: dict[str, tuple[float, int, Candidate]] = {}
    for candidates in lists:
        ordered = sorted(candidates, key=lambda c: -c.score)
        for rank, found in enumerate(ordered):
            if found.item_id in exclude:
                continue
            merit = (1.0 - rank / len(ordered)) * weights.get(found.source, 1.0)
            key = (merit, -SOURCES.index(found.source))
            held = best.get(found.item_id)
            scores = {} if held is None else held[2].source_scores
            scores[found.source] = max(found.score, scores.get(found.source, -math.inf))
            if held is None or key > held[:2]:
                kept = Candidate(found.item_id, found.source, merit, found.anchor_item_id, scores)
                best[found.item_id] = (*key, kept)
    merged = sorted(best.values(), key=lambda held: (-held[0], -held[1], held[2].item_id))
    return [held[2] for held in merged]


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
    """Up to n merged candidates from every source, best first.

    With `bundle=None` (before the first training) only model-free sources answer: trending from
    `config.trending_items` scored by live signals, exploration from `config.explore_pool`,
    and rebuy when enabled. `meta` is accepted for symmetry with `build_features`; catalog
    filters (stock, deletions) are the rules' job.
    """
    del meta
    config = config or CandidateConfig()
    recent = recent_items(user, config.recent_items)
    ctx = _Context(bundle, user, signals, config, now, recent)
    lists = []
    for source in SOURCES:
        share = config.shares.get(source, 0.0)
        if share > 0:
            lists.append(GENERATORS[source](ctx, max(math.ceil(share * n), 1)))
    return merge(lists, config.exclude, config.source_weights)[:n]
