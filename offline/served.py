"""The serving pipeline run offline: request contexts from lake views and snapshots at a moment.

Ranker training (candidates and features) and offline evaluation (whole pages) call the same
steps as `GET /v1/recommendations`, over item signals and catalog rows computed from the log.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from models.bundle import ModelBundle
from models.context import PageQuery, RequestContext, ServingConfig, hydrate
from models.pools import LivePools, build_pools
from models.types import ItemMeta, ItemSignals, UserView


@dataclass(frozen=True)
class OfflineWorld:
    """What the live tables would hold at `now`: item signals, catalog rows and the pools."""

    bundle: ModelBundle
    signals: Mapping[str, ItemSignals]
    meta: Mapping[str, ItemMeta]
    pools: LivePools
    now: float


def world_at(
    bundle: ModelBundle,
    signals: Mapping[str, ItemSignals],
    meta: Mapping[str, ItemMeta],
    now: float,
    limit: int,
) -> OfflineWorld:
    """The world at `now`; every item the bundle knows is in the catalog (a bare row when the
    catalog file lacks it), so the filters judge stock and category, not missing metadata."""
    catalog = dict(meta)
    for item_id in bundle.item_names:
        if item_id not in catalog:
            catalog[item_id] = ItemMeta(item_id)
    pools = build_pools(catalog.values(), signals.get, limit)
    return OfflineWorld(bundle, signals, catalog, pools, now)


def context_for(
    world: OfflineWorld,
    user: UserView,
    config: ServingConfig,
    query: PageQuery | None = None,
    seed: int = 0,
) -> RequestContext:
    """The request context serving would build for `user` at the world's moment."""
    return hydrate(
        world.bundle,
        user,
        world.signals.get,
        world.meta.get,
        now=world.now,
        rng=random.Random(seed),
        query=query or PageQuery(),
        config=config,
        pools=world.pools,
    )
