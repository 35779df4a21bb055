"""A page from ranked candidates: boosts, exploration slots and the diversity cap, with every
item shown checked against the live catalog (the sweep's values may be seconds old)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from models.candidates import CandidateSet
from models.exploration import exploration_slots, place_explorers
from models.pools import ItemFacts, LivePools
from models.rules import Boosts, Filters, allowed_mask, boosted_rows, diversify, is_allowed
from models.types import Candidate, ItemMeta, MetaLookup, SignalsLookup


def allowed(item_ids: list[str], facts: ItemFacts, filters: Filters) -> np.ndarray:
    """Which items the filters keep, judged on their facts (one bool per item)."""
    in_stock = facts.column("in_stock")
    return allowed_mask(item_ids, facts.known, in_stock, facts.categories, filters)


def allowed_explorers(
    pool: list[Candidate],
    live: LivePools,
    signals: SignalsLookup,
    meta: MetaLookup,
    filters: Filters,
) -> list[Candidate]:
    """The exploration pool without the items the filters rule out (judged on the sweep)."""
    ids = [c.item_id for c in pool]
    keep = allowed(ids, live.facts(ids, signals, meta), filters)
    return [c for c, kept in zip(pool, keep.tolist(), strict=True) if kept]


class LiveCheck:
    """The live catalog rows of the items a page reads, each looked up once, and whether the
    rules still allow them (the sweep's values may be a few seconds old)."""

    def __init__(self, meta: MetaLookup, filters: Filters) -> None:
        self._lookup, self.filters = meta, filters
        self._rows: dict[str, ItemMeta | None] = {}

    def meta(self, item_id: str) -> ItemMeta | None:
        """The item's live catalog row (memoised for this request)."""
        if item_id not in self._rows:
            self._rows[item_id] = self._lookup(item_id)
        return self._rows[item_id]

    def allows(self, item_id: str) -> bool:
        """Whether the live catalog row still passes the request's filters."""
        return is_allowed(self.meta(item_id), item_id, self.filters)


def adaptive_slots(
    most: int,
    warm_events: float,
    known_events: int,
    count: int,
    rng: random.Random,
    confidence: float = 1.0,
) -> int:
    """Exploration positions on a page of `count`: `most` for a user with no history, fewer as
    the history grows and as the page grows more `confident` (most * warm / (warm + known) /
    confidence, at most `most`, rounded at random so the average holds), never more than half
    the page."""
    if most <= 0:
        return 0
    share = warm_events / (warm_events + max(known_events, 0)) / max(confidence, 1e-9)
    expected = most * min(share, 1.0)
    whole = int(expected)
    slots = whole + (1 if rng.random() < expected - whole else 0)
    return exploration_slots(slots, count)


def arrange_page(
    ranked: CandidateSet,
    order: np.ndarray,
    scores: np.ndarray,
    facts: ItemFacts,
    explorers: Sequence[Candidate],
    checked: LiveCheck,
    now: float,
    boosts: Boosts,
    max_share: float,
    count: int,
    explore_at_bottom: bool = False,
) -> list[Candidate]:
    """`count` items: ranked rows boosted, explorers at their slots (the last ones with
    `explore_at_bottom`), categories capped; only items the live catalog still allows (`ranked`
    rows best first by `order`, with `scores`)."""
    created, shown = facts.column("created_at")[order], facts.column("impressions")[order]
    boosted, lifted = boosted_rows(scores, created, shown, now, boosts)
    rows = order[boosted]
    picked = {c.item_id for c in explorers}
    rest = (
        Candidate(ranked.ids[row], ranked.sources[row], float(score), ranked.anchors[row])
        for row, score in zip(rows.tolist(), lifted.tolist(), strict=True)
        if ranked.ids[row] not in picked and checked.allows(ranked.ids[row])
    )
    share = 1.0 if checked.filters.category is not None else max_share
    body = diversify(rest, checked.meta, count, share, reserved=explorers)
    return place_explorers(body, explorers, count, explore_at_bottom)
