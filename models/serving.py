"""The serving pipeline: candidates → filters → ranking → exploration → rules → reasons."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from models.candidates import DEFAULT_SHARES, CandidateConfig, generate, merge
from models.explain import explain
from models.exploration import exploration_slots as slots_for
from models.exploration import place_explorers, thompson_pick
from models.features import build_features
from models.ranking import ranker_of
from models.rules import Boosts, Filters, apply_filters, boost, diversify
from models.types import (
    Candidate,
    ItemMeta,
    MetaLookup,
    Recommendation,
    SignalsLookup,
    UserView,
)

if TYPE_CHECKING:
    from models.bundle import ModelBundle

StageObserver = Callable[[str, float], None]
CatalogLookup = Callable[[], Iterable[ItemMeta]]
RECENT_ANCHORS = 3


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
    candidate_limit: int = 500

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
    observe: StageObserver | None = None,
) -> list[Recommendation]:
    """A page of at most `count` recommendations, each with a reason."""
    personalised = not user.opted_out
    view = user if personalised else UserView(user_id=user.user_id, version=user.version)
    with _stage("candidates", observe):
        pool = generate_candidates(bundle, view, signals, meta, catalog, now, config, exclude)
    with _stage("rules", observe):
        filters = Filters(config.rebuy, frozenset(exclude), category)
        allowed = apply_filters([c for c in pool if c.source != "explore"], view, meta, filters)
        explore = apply_filters([c for c in pool if c.source == "explore"], view, meta, filters)
    ranked = rank_candidates(bundle, view, allowed, signals, meta, now, observe)
    with _stage("rules", observe):
        page = _compose_page(ranked, explore, signals, meta, now, rng, config, count, category)
    return [
        Recommendation(
            c.item_id, round(c.score, 6), c.source, explain(c, view, meta, now, personalised)
        )
        for c in page
    ]


def _compose_page(
    ranked: Sequence[Candidate],
    explore_pool: Sequence[Candidate],
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
    rng: random.Random,
    config: ServingConfig,
    count: int,
    category: str | None,
) -> list[Candidate]:
    boosted = boost(ranked, signals, meta, now, config.boosts)
    explorers = thompson_pick(
        explore_pool, signals, rng, slots_for(config.exploration_slots, count)
    )
    picked = {c.item_id for c in explorers}
    rest = [c for c in boosted if c.item_id not in picked]
    share = 1.0 if category is not None else config.max_category_share
    body = diversify(rest, meta, count, share, reserved=explorers)
    return place_explorers(body, explorers, count)


def generate_candidates(
    bundle: ModelBundle | None,
    user: UserView,
    signals: SignalsLookup,
    meta: MetaLookup,
    catalog: CatalogLookup,
    now: float,
    config: ServingConfig,
    exclude: Collection[str] = (),
) -> list[Candidate]:
    """Candidates of every source; live trending and unexposed items come from the catalog."""
    items = list(catalog())
    by_popularity = sorted(items, key=lambda m: _popularity(m.item_id, signals), reverse=True)
    candidate_config = CandidateConfig(
        shares={**DEFAULT_SHARES, "explore": 0.0},
        rebuy=config.rebuy,
        trending_items=[m.item_id for m in by_popularity[: config.candidate_limit]],
        exclude=frozenset(exclude),
    )
    found = generate(
        bundle, user, signals, meta, now, config.candidate_limit, config=candidate_config
    )
    if bundle is None:
        found = merge([_same_category(user, items, signals), found])
    # The exploration pool stays apart so the merge never relabels an explorer as trending.
    unexposed = _unexposed(items, signals, config.candidate_limit)
    return found + [Candidate(item_id, "explore", 0.0) for item_id in unexposed]


def _popularity(item_id: str, signals: SignalsLookup) -> float:
    live = signals(item_id)
    if live is None:
        return 0.0
    return live.trending + math.log1p(live.events_1h) + 0.5 * math.log1p(live.events_all)


def _same_category(
    user: UserView, items: Sequence[ItemMeta], signals: SignalsLookup
) -> list[Candidate]:
    """Before the first model: items sharing a category with the user's recent items."""
    by_id = {m.item_id: m for m in items}
    recent = [h.item_id for h in sorted(user.history, key=lambda h: h.timestamp, reverse=True)]
    anchors = list(dict.fromkeys(i for i in recent if i in by_id))[:RECENT_ANCHORS]
    seen = set(recent)
    found: list[Candidate] = []
    for rank, anchor in enumerate(anchors):
        category = by_id[anchor].category
        for item in items:
            if category and item.category == category and item.item_id not in seen:
                score = 1.0 + _popularity(item.item_id, signals) - rank * 0.1
                found.append(Candidate(item.item_id, "item2item", score, anchor))
    return found


def _unexposed(items: Sequence[ItemMeta], signals: SignalsLookup, limit: int) -> list[str]:
    def impressions(item: ItemMeta) -> float:
        live = signals(item.item_id)
        return live.impressions if live is not None else 0.0

    return [m.item_id for m in sorted(items, key=impressions)[: max(1, limit // 10)]]


def rank_candidates(
    bundle: ModelBundle | None,
    user: UserView,
    candidates: Sequence[Candidate],
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
    observe: StageObserver | None = None,
) -> list[Candidate]:
    """Candidates best first by the bundle's ranker (the retrieval baseline without one)."""
    if not candidates:
        return []
    with _stage("features", observe):
        features, _ = build_features(bundle, user, candidates, signals, meta, now)
    with _stage("ranking", observe):
        scores = ranker_of(bundle).score(features)
    order = sorted(range(len(candidates)), key=lambda i: -float(scores[i]))
    return [
        Candidate(c.item_id, c.source, float(scores[i]), c.anchor_item_id, c.source_scores)
        for i in order
        for c in (candidates[i],)
    ]


def similar_items(
    bundle: ModelBundle | None, item_id: str, meta: MetaLookup, catalog: CatalogLookup, count: int
) -> list[tuple[str, float]]:
    """Items most like `item_id` with a similarity in [0, 1] (shared category and tags)."""
    target = meta(item_id)
    if target is None:
        return []
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
