"""Business rules of a page: filters, freshness and low-exposure boosts, the diversity cap."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from models.types import Candidate, ItemMeta, MetaLookup, SignalsLookup

DIVERSITY_MIN_PAGE = 4


@dataclass(frozen=True, slots=True)
class Filters:
    """What a request rules out: items it may not show (asked to exclude, or consumed under the
    consumption policy) and other categories than the one asked for."""

    exclude: Collection[str] = ()
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Boosts:
    """Additive boosts on normalised scores for new items and items rarely shown."""

    freshness: float = 0.1
    freshness_half_life_s: float = 7 * 86_400.0
    low_exposure: float = 0.05
    low_exposure_impressions: float = 20.0


def is_allowed(item: ItemMeta | None, item_id: str, filters: Filters) -> bool:
    """Whether an item may be shown under these filters."""
    if item is None or not item.in_stock or item_id in filters.exclude:
        return False
    return filters.category is None or item.category == filters.category


def allowed_mask(
    item_ids: Sequence[str],
    known: np.ndarray,
    in_stock: np.ndarray,
    categories: Sequence[str],
    filters: Filters,
) -> np.ndarray:
    """`is_allowed` for many items at once from their catalog columns (unique ids)."""
    keep = known & (in_stock > 0)
    if filters.exclude:
        keep &= ~np.fromiter(map(filters.exclude.__contains__, item_ids), bool, len(item_ids))
    if filters.category is not None:
        wanted = filters.category
        keep &= np.fromiter((c == wanted for c in categories), bool, len(categories))
    return keep


def boosted_rows(
    scores: np.ndarray,
    created_at: np.ndarray,
    impressions: np.ndarray,
    now: float,
    boosts: Boosts,
) -> tuple[np.ndarray, np.ndarray]:
    """`boosted_order` on columns: rows best first and their boosted scores (NaN: no time)."""
    if len(scores) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    low, span = float(scores.min()), float(scores.max() - scores.min())
    normal = (scores - low) / span if span > 0 else np.ones(len(scores))
    undated = np.isnan(created_at)
    age = np.maximum(0.0, now - np.where(undated, now, created_at))
    fresh = boosts.freshness * np.exp(-math.log(2) * age / boosts.freshness_half_life_s)
    lift = np.where(undated, 0.0, fresh)
    lift += np.where(impressions < boosts.low_exposure_impressions, boosts.low_exposure, 0.0)
    boosted = normal + lift
    order = np.argsort(-boosted, kind="stable")
    return order, boosted[order]


def normalise(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Scores min-max scaled to [0, 1] so boosts mean the same for every ranker."""
    if not candidates:
        return []
    low = min(c.score for c in candidates)
    span = max(c.score for c in candidates) - low
    return [
        Candidate(
            c.item_id, c.source, (c.score - low) / span if span > 0 else 1.0, c.anchor_item_id
        )
        for c in candidates
    ]


def boost(
    candidates: Sequence[Candidate],
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
    boosts: Boosts,
) -> list[Candidate]:
    """Normalised scores plus freshness and low-exposure boosts, re-sorted best first."""
    boosted = [
        Candidate(
            c.item_id,
            c.source,
            c.score + _boost_of(c.item_id, signals, meta, now, boosts),
            c.anchor_item_id,
        )
        for c in normalise(candidates)
    ]
    return sorted(boosted, key=lambda c: c.score, reverse=True)


def _boost_of(
    item_id: str, signals: SignalsLookup, meta: MetaLookup, now: float, boosts: Boosts
) -> float:
    total = 0.0
    item = meta(item_id)
    if item is not None and item.created_at is not None:
        age = max(0.0, now - item.created_at)
        total += boosts.freshness * math.exp(-math.log(2) * age / boosts.freshness_half_life_s)
    live = signals(item_id)
    impressions = live.impressions if live is not None else 0.0
    if impressions < boosts.low_exposure_impressions:
        total += boosts.low_exposure
    return total


def category_cap(count: int, max_share: float) -> int | None:
    """Most items of one category allowed on a page of `count` (None: no cap)."""
    if count < DIVERSITY_MIN_PAGE:
        return None
    return max(1, math.floor(count * max_share))


def diversify(
    ranked: Iterable[Candidate],
    meta: MetaLookup,
    count: int,
    max_share: float,
    reserved: Sequence[Candidate] = (),
) -> list[Candidate]:
    """Ranked items filling a page of `count` beside `reserved` ones, capping each category
    (`ranked` is read only as far as the page needs)."""
    wanted = count - len(reserved)
    cap = category_cap(count, max_share)
    if cap is None:
        return list(itertools.islice(ranked, max(0, wanted)))
    per_category: Counter[str] = Counter(_category(meta, c.item_id) for c in reserved)
    page: list[Candidate] = []
    for candidate in ranked:
        if len(page) >= wanted:
            break
        category = _category(meta, candidate.item_id)
        if category and per_category[category] >= cap:
            continue
        per_category[category] += 1
        page.append(candidate)
    return page


def _category(meta: MetaLookup, item_id: str) -> str:
    item = meta(item_id)
    return item.category if item is not None else ""
