"""Exploration from the long tail: a user with candidates explores among their own long-tail
items ranked below the page."""

from __future__ import annotations

import random

import numpy as np

from models.bundle import long_tail
from models.context import RequestContext
from models.exploration import TAIL_DEPTH, personal_pool
from models.pipeline import CANDIDATE_STEPS, rank, run
from models.serving import PageQuery, ServingConfig, hydrate, recommend
from models.types import HistoryItem, ItemSignals, UserView
from offline.synthetic import blocks
from offline.train import FittedModel, TrainParams, fit

NOW = 100.0


def test_the_head_holds_half_the_weight_and_the_rest_is_long_tail() -> None:
    popularity = np.array([1.0, 50.0, 2.0, 30.0, 17.0], dtype=np.float32)
    tail = long_tail(popularity, np.argsort(-popularity, kind="stable"))
    # 50 of 100 is half: the most popular item alone is the head.
    assert tail.tolist() == [True, False, True, True, True]
    assert long_tail(np.zeros(3), np.arange(3)).all()


def test_the_personal_pool_keeps_rarely_shown_tail_items_best_first() -> None:
    ids = [f"i{n}" for n in range(6)]
    ranked = np.array([5, 0, 3, 1, 4])
    tail = np.array([True, True, True, False, True, True])
    impressions = np.array([0.0, 0.0, 0.0, 0.0, 500.0, 0.0])
    pool = personal_pool(ids, ranked, tail, impressions)
    assert [c.item_id for c in pool] == ["i5", "i0", "i1"]
    assert {c.source for c in pool} == {"explore"}
    many = personal_pool(
        [str(n) for n in range(100)], np.arange(100), np.ones(100, bool), np.zeros(100)
    )
    assert len(many) == TAIL_DEPTH


def _context(fitted: FittedModel, seed: int) -> RequestContext:
    user = UserView("reader", history=[HistoryItem("g0-i1", "view", 1.0)])
    return hydrate(
        fitted.bundle,
        user,
        lambda _: ItemSignals(""),
        fitted.meta.get,
        now=NOW,
        rng=random.Random(seed),
        query=PageQuery(count=4),
        config=ServingConfig(exploration_slots=2, max_category_share=1.0),
        catalog=fitted.meta.values,
    )


def test_explorers_are_the_user_s_own_long_tail_candidates_below_the_page() -> None:
    params = TrainParams(factors=4, iterations=3, retriever="exact", ranker=False)
    fitted = fit(*blocks(groups=2, users_per_group=10, items_per_group=8), params, progress=False)
    bundle = fitted.bundle
    explored: set[str] = set()
    for seed in range(20):
        ctx = _context(fitted, seed)
        draft = run(ctx, (*CANDIDATE_STEPS, ("rank", rank)))
        below = {draft.found.ids[row] for row in draft.order[4:].tolist()}
        page = recommend(_context(fitted, seed))
        for item in page:
            if item.source == "explore":
                assert item.item_id in below
                assert bundle.long_tail[bundle.item_index[item.item_id]]
                explored.add(item.item_id)
    assert explored
