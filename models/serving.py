"""The serving pipeline: candidates → filters → ranking → exploration → rules → reasons.

Per-candidate work is numpy over the candidate columns; Python objects are made only for the
items a page shows. Catalog-wide lists (live trending, unexposed items) come from `LivePools`,
built by one sweep of the catalog and refreshed off the request path (`PoolCache`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from models.candidates import DEFAULT_SHARES, CandidateConfig, CandidateSet, generate_set, merge
from models.content_live import LiveContent, similar_by_content
from models.explain import explain
from models.features import ItemColumns, build_features
from models.oblivious import scorer_of
from models.page import LiveCheck, allowed, allowed_explorers, compose_page
from models.pools import CatalogLookup, LivePools, PoolCache, build_pools
from models.ranking import ranker_of
from models.rules import Boosts, Filters
from models.similarity import history_anchors
from models.types import Candidate, MetaLookup, Recommendation, SignalsLookup, UserView

if TYPE_CHECKING:
    from models.bundle import ModelBundle

__all__ = [
    "CatalogLookup",
    "LivePools",
    "PipelineStats",
    "PoolCache",
    "ServingConfig",
    "build_pools",
    "generate_candidates",
    "rank_candidates",
    "recommend",
    "similar_items",
]

StageObserver = Callable[[str, float], None]
RECENT_ANCHORS = 3
HISTORY_SOURCES = frozenset({"als", "ease"})
"""Sources scoring an item against the whole history rather than one anchor item."""


CANDIDATE_LIMIT = 350
"""Candidates ranked per request: at least 300 remain after the filters. The ranker learns from
50-candidate sets; features relative to the set (ranks, z-scores) are taken against the best
50 (`models.features.reference_size`), so ranking more grades as well. ML-1M RecBole test
part, NDCG@10: 0.2904 on 50 candidates, 0.2901 on 350 (0.2797 before that reference)."""


@dataclass(frozen=True, slots=True)
class ServingConfig:
    """Knobs of one ranking configuration (an experiment variant may override any of them)."""

    exploration_slots: int = 2
    rebuy: bool = False
    max_category_share: float = 0.3
    freshness_boost: float = 0.1
    freshness_half_life_s: float = 7 * 86_400.0
    low_exposure_boost: float = 0.05
    low_exposure_impressions: float = 20.0
    candidate_limit: int = CANDIDATE_LIMIT

    def with_overrides(self, overrides: Mapping[str, Any]) -> ServingConfig:
        """A copy with the known keys of `overrides` applied (unknown keys are ignored)."""
        known = {f.name: type(getattr(self, f.name)) for f in fields(self)}
        values = {k: known[k](v) for k, v in overrides.items() if k in known}
        return replace(self, **values)

    @property
    def boosts(self) -> Boosts:
        """The boost parameters of this configuration."""
        return Boosts(
            self.freshness_boost,
            self.freshness_half_life_s,
            self.low_exposure_boost,
            self.low_exposure_impressions,
        )


@dataclass(slots=True)
class PipelineStats:
    """Counts of one request: candidates generated, ranked after the filters, items served."""

    candidates: int = 0
    ranked: int = 0
    served: int = 0


@contextmanager
def _stage(name: str, observe: StageObserver | None) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        if observe is not None:
            observe(name, time.perf_counter() - started)


def recommend(
    bundle: ModelBundle | None,
    user: UserView,
    signals: SignalsLookup,
    meta: MetaLookup,
    *,
    count: int,
    exclude: Collection[str] = (),
    category: str | None = None,
    now: float,
    rng: random.Random,
    config: ServingConfig = ServingConfig(),
    catalog: CatalogLookup = tuple,
    pools: LivePools | None = None,
    observe: StageObserver | None = None,
    stats: PipelineStats | None = None,
    live_content: LiveContent | None = None,
) -> list[Recommendation]:
    """A page of at most `count` recommendations, each with a reason.

    `pools` are the live catalog lists (a `PoolCache` keeps them); without them the catalog is
    swept for this request alone. Candidates are filtered, ranked and boosted on the sweep's
    item values; the items a page shows are checked against the live catalog (`meta`).
    """
    personalised = not user.opted_out
    view = user if personalised else UserView(user_id=user.user_id, version=user.version)
    with _stage("candidates", observe):
        live = pools or build_pools(catalog(), signals, config.candidate_limit)
        swept = live.signals_or(signals)
        found, unexposed = generate_candidates(
            bundle, view, swept, meta, live, now, config, exclude, live_content
        )
    with _stage("rules", observe):
        filters = Filters(config.rebuy, frozenset(exclude), category)
        facts = live.facts(found.ids, swept, meta)
        rows = np.flatnonzero(allowed(found.ids, facts, view, filters))
        kept, facts = found.take(rows), facts.take(rows)
        explore = allowed_explorers(unexposed, live, swept, meta, view, filters)
    looked_up = (facts.values, facts.categories)
    order, scores = _rank_rows(bundle, view, kept, swept, meta, now, observe, looked_up=looked_up)
    with _stage("rules", observe):
        checked = LiveCheck(meta, view, filters)
        page = compose_page(
            kept, order, scores, facts, explore, swept, checked, now, rng, config, count
        )
        if bundle is not None and personalised:
            page = _with_history_anchors(bundle, view, page, now)
        served = [
            Recommendation(
                c.item_id,
                round(c.score, 6),
                c.source,
                explain(c, view, checked.meta, now, personalised),
            )
            for c in page
        ]
    if stats is not None:
        stats.candidates, stats.ranked, stats.served = len(found), len(kept), len(served)
    return served


def _with_history_anchors(
    bundle: ModelBundle, user: UserView, page: list[Candidate], now: float
) -> list[Candidate]:
    """Candidates of whole-history sources (ALS, EASE) anchored to the history item most linked
    to them, so their reasons can name that item."""
    unanchored = [
        n for n, c in enumerate(page) if c.anchor_item_id is None and c.source in HISTORY_SOURCES
    ]
    if not unanchored:
        return page
    anchors = history_anchors(bundle, user, [page[n].item_id for n in unanchored], now)
    anchored = list(page)
    for n, anchor in zip(unanchored, anchors, strict=True):
        if anchor is not None:
            anchored[n] = replace(page[n], anchor_item_id=anchor)
    return anchored


def generate_candidates(
    bundle: ModelBundle | None,
    user: UserView,
    signals: SignalsLookup,
    meta: MetaLookup,
    pools: LivePools,
    now: float,
    config: ServingConfig,
    exclude: Collection[str] = (),
    live_content: LiveContent | None = None,
) -> tuple[CandidateSet, list[Candidate]]:
    """Candidates of every source, and apart from them the exploration pool (unexposed items)
    so the merge never relabels an explorer as trending."""
    candidate_config = CandidateConfig(
        shares={**version_shares(bundle), "explore": 0.0},
        rebuy=config.rebuy,
        trending_items=pools.trending[: config.candidate_limit],
        exclude=frozenset(exclude),
        live_content=live_content,
    )
    found = generate_set(
        bundle, user, signals, now, config.candidate_limit, config=candidate_config
    )
    if bundle is None:
        found = CandidateSet.of(merge([_same_category(user, meta, pools), found.candidates()]))
    unexposed = pools.unexposed[: max(1, config.candidate_limit // 10)]
    return found, [Candidate(item_id, "explore", 0.0) for item_id in unexposed]


def _same_category(user: UserView, meta: MetaLookup, pools: LivePools) -> list[Candidate]:
    """Before the first model: items sharing a category with the user's recent items."""
    recent = [h.item_id for h in sorted(user.history, key=lambda h: h.timestamp, reverse=True)]
    listed = {i: item for i in dict.fromkeys(recent) if (item := meta(i)) is not None}
    seen = set(recent)
    found: list[Candidate] = []
    for rank, (anchor, item) in enumerate(list(listed.items())[:RECENT_ANCHORS]):
        category = item.category
        for item_id, popularity in pools.by_category.get(category, ()) if category else ():
            if item_id not in seen:
                score = 1.0 + popularity - rank * 0.1
                found.append(Candidate(item_id, "item2item", score, anchor))
    return found


def rank_candidates(
    bundle: ModelBundle | None,
    user: UserView,
    candidates: CandidateSet,
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
    observe: StageObserver | None = None,
    *,
    items: ItemColumns | None = None,
) -> tuple[CandidateSet, np.ndarray]:
    """Candidates best first by the bundle's ranker (the retrieval baseline without one), with
    their scores; `items` is the sweep's snapshot of item values (see `build_features`)."""
    order, scores = _rank_rows(bundle, user, candidates, signals, meta, now, observe, items=items)
    return candidates.take(order), scores


def _rank_rows(
    bundle: ModelBundle | None,
    user: UserView,
    candidates: CandidateSet,
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
    observe: StageObserver | None,
    *,
    items: ItemColumns | None = None,
    looked_up: tuple[np.ndarray, list[str]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `candidates` best first, and their scores in that order (`items`, `looked_up`:
    see `build_features`)."""
    if not len(candidates):
        return np.empty(0, dtype=np.int64), np.empty(0)
    with _stage("features", observe):
        features, _ = build_features(
            bundle, user, candidates, signals, meta, now, items=items, looked_up=looked_up
        )
    with _stage("ranking", observe):
        scores = scorer_of(ranker_of(bundle))(features)
    order = np.argsort(-scores, kind="stable")
    return order, scores[order]


def version_shares(bundle: ModelBundle | None) -> dict[str, float]:
    """The candidate mix the version's ranker was trained on (its manifest), else the default."""
    recorded = (bundle.manifest.get("parameters") or {}).get("candidate_shares") if bundle else None
    if not isinstance(recorded, dict):
        return dict(DEFAULT_SHARES)
    return {source: float(share) for source, share in recorded.items()}


def _model_neighbours(
    bundle: ModelBundle | None, item_id: str, meta: MetaLookup, count: int
) -> list[tuple[str, float]]:
    if bundle is None or bundle.similar_items is None or bundle.similar_scores is None:
        return []
    row = bundle.item_index.get(item_id)
    if row is None:
        return []
    found: list[tuple[str, float]] = []
    for neighbour, score in zip(bundle.similar_items[row], bundle.similar_scores[row], strict=True):
        if neighbour < 0 or score <= 0 or len(found) == count:
            break
        other = bundle.item_names[int(neighbour)]
        entry = meta(other)
        if other != item_id and entry is not None and entry.in_stock:
            found.append((other, round(float(score), 6)))
    return found


def similar_items(
    bundle: ModelBundle | None,
    item_id: str,
    meta: MetaLookup,
    catalog: CatalogLookup,
    count: int,
    live: LiveContent | None = None,
) -> list[tuple[str, float]]:
    """Items most like `item_id`: the model's item neighbours when it knows the item, else
    its content neighbours (items added since training included, from `live`), else catalog
    similarity in [0, 1] (shared category and tags)."""
    target = meta(item_id)
    if target is None:
        return []
    learned = _model_neighbours(bundle, item_id, meta, count)
    if learned:
        return learned
    by_content = similar_by_content(bundle, live, item_id, meta, count)
    if by_content:
        return by_content
    tags = set(target.tags)
    scored: list[tuple[str, float]] = []
    for item in catalog():
        if item.item_id == item_id or not item.in_stock:
            continue
        overlap = len(tags & set(item.tags)) / len(tags | set(item.tags)) if tags else 0.0
        same = 1.0 if target.category and item.category == target.category else 0.0
        score = 0.5 * same + 0.5 * overlap
        if score > 0:
            scored.append((item.item_id, round(score, 6)))
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:count]
