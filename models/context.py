"""What one request asks and everything computed once for it, read by every pipeline step."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from models.bundle import ModelBundle
from models.consumption import ConsumptionPolicy, resolve
from models.content_live import LiveContent
from models.fold import UserFold, fold_user
from models.pools import CatalogLookup, LivePools, build_pools
from models.rules import Boosts
from models.sources import recent_items
from models.types import MetaLookup, SignalsLookup, UserView
from models.weights import EventWeighting
from streamrec.interactions import DISLIKED, PURCHASE, TYPE_BITS

StageObserver = Callable[[str, float], None]
CONTEXT_STAGE = "context"
"""The stage label of `hydrate` (the user's fold and consumption), timed before the steps."""
RECENT_ANCHORS = 5
CANDIDATE_LIMIT = 350
"""Candidates ranked per request: at least 300 remain after the filters. On ML-1M
(chronological leave-one-out) 200 already hold the next item for 75% of users and pages of 200
and 350 score within noise (HR@10 0.303 and 0.301 on 1,500 users). The ranker learns from
smaller sets; features relative to the set (ranks, z-scores) are taken against the best ones
(`models.feature_stats.reference_size`), so ranking more grades as well."""


@dataclass(frozen=True, slots=True)
class ServingConfig:
    """Knobs of one ranking configuration (an experiment variant may override any of them)."""

    exploration_slots: int = 2
    exploration_warm_events: float = 20.0
    exploration_confidence: float = 4.0
    """How much a confident page cuts exploration: slots scale by (the version's typical spread
    of ranker scores / this page's) ** exploration_confidence; 0 ignores confidence (ML-1M:
    4 keeps the number of explorers and halves the hits they cost, `models/confidence.py`)."""
    exploration_at_bottom: bool = True
    """Whether a warm user's explorers (at least `exploration_warm_events` events) take the last
    positions of the page rather than spread positions."""
    rebuy: bool | None = None
    consumed_types: tuple[str, ...] = ()
    max_category_share: float = 0.5
    freshness_boost: float = 0.1
    freshness_half_life_s: float = 7 * 86_400.0
    low_exposure_boost: float = 0.05
    low_exposure_impressions: float = 20.0
    candidate_limit: int = CANDIDATE_LIMIT

    def with_overrides(self, overrides: Mapping[str, Any]) -> ServingConfig:
        """A copy with the known keys of `overrides` applied (unknown keys are ignored)."""
        known: dict[str, Callable[[Any], Any]] = {
            f.name: type(getattr(self, f.name)) for f in fields(self)
        }
        known |= {"rebuy": _optional_bool, "consumed_types": tuple}
        values = {k: known[k](v) for k, v in overrides.items() if k in known}
        return replace(self, **values)

    def policy(self, bundle: ModelBundle | None) -> ConsumptionPolicy:
        """The consumption policy: this configuration's choices, else the version's
        recommendation (its manifest), else the default."""
        return resolve(self.consumed_types, self.rebuy, bundle.manifest if bundle else None)

    @property
    def boosts(self) -> Boosts:
        """The boost parameters of this configuration."""
        return Boosts(
            self.freshness_boost,
            self.freshness_half_life_s,
            self.low_exposure_boost,
            self.low_exposure_impressions,
        )


def _optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True, slots=True)
class PageQuery:
    """What the caller asks for: page size, items to leave out, an optional category."""

    count: int = 10
    exclude: frozenset[str] = frozenset()
    category: str | None = None


@dataclass(slots=True)
class PipelineStats:
    """Counts of one request: candidates generated, ranked after the filters, items served."""

    candidates: int = 0
    ranked: int = 0
    served: int = 0


@dataclass(frozen=True)
class Consumption:
    """Items that never come back to this user, and those that may only with a reason saying
    the user had them (item -> the interaction type to name)."""

    never: frozenset[str] = frozenset()
    revisit: Mapping[str, str] = field(default_factory=dict)
    disliked: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RequestContext:
    """Everything one request computes once: the bundle, the user's view and fold, the
    consumption policy and what the user consumed under it, their recent items, the live
    lookups and pools, the configuration, rng and now."""

    bundle: ModelBundle | None
    user: UserView
    personalised: bool
    signals: SignalsLookup
    meta: MetaLookup
    pools: LivePools
    config: ServingConfig
    query: PageQuery
    now: float
    rng: random.Random
    policy: ConsumptionPolicy
    consumed: Consumption
    recent: list[str]
    fold: UserFold
    observe: StageObserver | None = None
    live_content: LiveContent | None = None

    @property
    def weighting(self) -> EventWeighting:
        """How the bundle weighs events (the default without a bundle)."""
        return self.bundle.weighting if self.bundle is not None else EventWeighting()


def hydrate(
    bundle: ModelBundle | None,
    user: UserView,
    signals: SignalsLookup,
    meta: MetaLookup,
    *,
    now: float,
    rng: random.Random,
    query: PageQuery = PageQuery(),
    config: ServingConfig = ServingConfig(),
    pools: LivePools | None = None,
    catalog: CatalogLookup = tuple,
    observe: StageObserver | None = None,
    live_content: LiveContent | None = None,
) -> RequestContext:
    """The request's context, each value computed once. An opted-out user is served as a
    stranger. Without `pools`, `catalog` is swept for this request alone; `live_content` holds
    the content vectors of items added since training."""
    started = time.perf_counter()
    personalised = not user.opted_out
    view = user if personalised else UserView(user_id=user.user_id, version=user.version)
    live = pools or build_pools(catalog(), signals, config.candidate_limit)
    weighting = bundle.weighting if bundle is not None else EventWeighting()
    policy = config.policy(bundle)
    ctx = RequestContext(
        bundle=bundle,
        user=view,
        personalised=personalised,
        signals=live.signals_or(signals),
        meta=meta,
        pools=live,
        config=config,
        query=query,
        now=now,
        rng=rng,
        policy=policy,
        consumed=consumption(view, policy, weighting),
        recent=recent_items(view, RECENT_ANCHORS, weighting),
        fold=fold_user(bundle, view, now),
        observe=observe,
        live_content=live_content,
    )
    if observe is not None:
        observe(CONTEXT_STAGE, time.perf_counter() - started)
    return ctx


def consumption(
    user: UserView, policy: ConsumptionPolicy, weighting: EventWeighting | None = None
) -> Consumption:
    """What the user consumed under `policy`: never shown again, shown again only with a reason,
    and disliked (never a reason's anchor). The table's interaction bits are completed from
    the history and purchases, which a state written before the bits existed still holds."""
    bits = interaction_bits(user, weighting or EventWeighting())
    never, revisit = policy.never(bits), policy.revisit(bits)
    disliked = frozenset(item for item, mask in bits.items() if mask & DISLIKED)
    return Consumption(never, revisit, disliked)


def interaction_bits(user: UserView, weighting: EventWeighting) -> dict[str, int]:
    """Each item's interaction type bits: the table's, the history's and the purchases'."""
    bits = dict(user.interacted)
    for event in user.history:
        mask = TYPE_BITS.get(event.type, 0)
        if weighting.dislikes(event.type, event.value):
            mask |= DISLIKED
        bits[event.item_id] = bits.get(event.item_id, 0) | mask
    for item in user.purchased:
        bits[item] = bits.get(item, 0) | PURCHASE
    return bits


def excluded(query: PageQuery, consumed: Consumption) -> Collection[str]:
    """Every item the request may not show, whatever its source."""
    return query.exclude | consumed.never
