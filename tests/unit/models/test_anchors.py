"""Reasons for items scored against the whole history: the history item most linked to them."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from models.bundle import ModelBundle, ease_scores
from models.serving import PageQuery, ServingConfig, hydrate, recommend
from models.similarity import _among, history_anchors
from models.types import HistoryItem, ItemSignals, UserView
from offline.synthetic import blocks
from offline.train import FittedModel, TrainParams, fit

PARAMS = TrainParams(factors=8, iterations=8, retriever="exact", ranker=False, similar_top=30)
NOW = 100.0


@pytest.fixture(scope="module")
def fitted() -> FittedModel:
    events, items = blocks(groups=3, users_per_group=30, items_per_group=20)
    return fit(events, items, PARAMS, progress=False)


def _reader() -> UserView:
    history = [HistoryItem(f"g1-i{i}", "view", 1.0 + i) for i in range(6)]
    return UserView("stranger", history=history)


def _anchor(bundle: ModelBundle, user: UserView, item_id: str) -> str | None:
    return history_anchors(bundle, user, [item_id], ease_scores(bundle, user, NOW))[0]


def no_signals(item_id: str) -> ItemSignals | None:
    return None


@pytest.mark.parametrize("weights", ["ease", "als factors"])
def test_the_anchor_is_a_history_item_of_the_same_block_and_never_the_item(
    fitted: FittedModel, weights: str
) -> None:
    bundle = fitted.bundle if weights == "ease" else replace(fitted.bundle, similar_items=None)
    assert (bundle.ease is None) == (weights != "ease")
    reader = _reader()
    history = {event.item_id for event in reader.history}
    for item in ("g1-i12", "g1-i3"):
        anchor = _anchor(bundle, reader, item)
        assert anchor in history and anchor != item, (item, anchor)
    assert _anchor(bundle, reader, "not-in-the-bundle") is None
    assert _anchor(bundle, UserView("nobody"), "g1-i12") is None
    several = ["g1-i12", "not-in-the-bundle", "g2-i5", "g1-i3"]
    assert history_anchors(bundle, reader, several, ease_scores(bundle, reader, NOW)) == [
        _anchor(bundle, reader, item) for item in several
    ]


def test_personal_items_on_a_page_say_which_history_item_they_follow(
    fitted: FittedModel,
) -> None:
    reader = _reader()
    # Without the category cap the reader's own block fills the page, so links are certain.
    uncapped = ServingConfig(max_category_share=1.0, exploration_slots=0)
    ctx = hydrate(
        fitted.bundle,
        reader,
        no_signals,
        fitted.meta.get,
        now=NOW,
        rng=random.Random(3),
        query=PageQuery(count=8),
        config=uncapped,
        catalog=fitted.meta.values,
    )
    page = recommend(ctx)
    history = {event.item_id for event in reader.history}
    personal = [item for item in page if item.source in {"als", "ease"}]
    anchors = {item.item_id: _anchor(fitted.bundle, reader, item.item_id) for item in personal}
    assert any(anchors.values()), [item.source for item in page]
    for item in personal:
        if item.item_id in history:  # only viewed: it may come back, saying so
            assert item.reason.type == "viewed_before"
            assert item.reason.anchor_item_id == item.item_id
            continue
        anchor = anchors[item.item_id]
        if anchor is None:  # nothing the reader saw leads to it (another block)
            assert item.reason.type == "similar_users"
            continue
        assert item.reason.type == "because_you_viewed"
        assert item.reason.anchor_item_id == anchor
        assert item.reason.text == f"Because you viewed {fitted.meta[anchor].title}"


@pytest.mark.parametrize("seed", range(20))
def test_membership_by_bisection_is_isin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = np.unique(rng.integers(0, 50, int(rng.integers(0, 30))))
    wanted = rng.integers(-2, 55, int(rng.integers(0, 10)))
    np.testing.assert_array_equal(_among(rows, wanted), np.isin(rows, wanted))
