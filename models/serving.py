"""Serving entry points: the configuration, the page pipeline and similar items.

A page is made by `models.pipeline.recommend` over a `models.context.RequestContext`; catalog-wide
lists (live trending, unexposed items) come from `LivePools`, built by one sweep of the catalog and
refreshed off the request path by whoever serves (the API's `PoolRefresher`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.content_live import LiveContent, similar_by_content
from models.context import (
    CANDIDATE_LIMIT,
    PageQuery,
    PipelineStats,
    RequestContext,
    ServingConfig,
    hydrate,
)
from models.pipeline import STEPS, recommend, version_shares
from models.pools import CatalogLookup, LivePools, build_pools
from models.types import MetaLookup

if TYPE_CHECKING:
    from models.bundle import ModelBundle

__all__ = [
    "CANDIDATE_LIMIT",
    "STEPS",
    "CatalogLookup",
    "LivePools",
    "PageQuery",
    "PipelineStats",
    "RequestContext",
    "ServingConfig",
    "build_pools",
    "hydrate",
    "recommend",
    "similar_items",
    "version_shares",
]


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
