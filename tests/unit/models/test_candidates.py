"""Candidate generation and ranking on synthetic blocks whose right answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from models.candidates import CandidateConfig, generate, merge
from models.types import Candidate, HistoryItem, ItemSignals, UserView
from offline.synthetic import blocks, planted_pair
from offline.train import FittedModel, TrainParams, fit
from tests.unit.models.reference import rank

PARAMS = TrainParams(factors=8, iterations=10, retriever="exact", ranker=False, half_life_days=None)


@pytest.fixture(scope="module")
def fitted() -> FittedModel:
    events, items = blocks(groups=3, users_per_group=30, items_per_group=20)
    return fit(events, items, PARAMS, progress=False)


def no_signals(item_id: str) -> ItemSignals | None:
    return None


def no_meta(item_id: str) -> None:
    return None


def test_als_top_ten_of_a_known_user_comes_from_its_own_block(fitted: FittedModel) -> None:
    for user_id in ("u0-3", "u1-7", "u2-11"):
        view = UserView(user_id)
        config = CandidateConfig(shares={"als": 1.0})
        top = generate(fitted.bundle, view, no_signals, no_meta, 0.0, 10, config=config)
        assert len(top) == 10
        block = f"g{user_id[1]}-"
        assert all(c.item_id.startswith(block) for c in top)
        assert {c.source for c in top} == {"als"}


def test_history_alone_folds_an_unknown_user_into_the_right_block(fitted: FittedModel) -> None:
    history = [HistoryItem(f"g2-i{i}", "purchase", 1.0 + i) for i in range(3, 9)]
    view = UserView("stranger", history=history)
    config = CandidateConfig(shares={"als": 1.0})
    top = generate(fitted.bundle, view, no_signals, no_meta, 10.0, 10, config=config)
    assert top and all(c.item_id.startswith("g2-") for c in top)


def test_planted_sequence_makes_its_follower_the_top_next_candidate(fitted: FittedModel) -> None:
    first, second = planted_pair(1)
    view = UserView("stranger", history=[HistoryItem(first, "view", 5.0)])
    config = CandidateConfig(shares={"next": 1.0})
    found = generate(fitted.bundle, view, no_signals, no_meta, 6.0, 10, config=config)
    assert found[0].item_id == second
    assert found[0].source == "next" and found[0].anchor_item_id == first


def test_content_neighbours_share_the_anchor_block(fitted: FittedModel) -> None:
    view = UserView("stranger", history=[HistoryItem("g0-i5", "view", 5.0)])
    config = CandidateConfig(shares={"content": 1.0})
    found = generate(fitted.bundle, view, no_signals, no_meta, 6.0, 5, config=config)
    assert found and all(c.item_id.startswith("g0-") and c.anchor_item_id == "g0-i5" for c in found)


def test_merge_keeps_one_candidate_per_item_with_every_source_score() -> None:
    merged = merge(
        [
            [Candidate("a", "als", 3.0), Candidate("b", "als", 1.0)],
            [Candidate("b", "next", 0.9, anchor_item_id="x")],
        ]
    )
    by_item = {c.item_id: c for c in merged}
    assert sorted(by_item) == ["a", "b"]
    assert by_item["b"].source == "next" and by_item["b"].anchor_item_id == "x"
    assert by_item["b"].source_scores == {"als": 1.0, "next": 0.9}


def test_excluded_items_never_come_back(fitted: FittedModel) -> None:
    view = UserView("u0-1")
    banned = frozenset(f"g0-i{i}" for i in range(20))
    found = generate(
        fitted.bundle, view, no_signals, no_meta, 0.0, 50, config=CandidateConfig(exclude=banned)
    )
    assert found and not banned & {c.item_id for c in found}


def test_without_a_bundle_trending_comes_from_live_signals_and_ranks() -> None:
    live = {"hot": ItemSignals("hot", trending=9.0), "warm": ItemSignals("warm", trending=2.0)}
    config = CandidateConfig(trending_items=["warm", "hot"], explore_pool=["new"])
    found = generate(None, UserView("anyone"), live.get, no_meta, 0.0, config=config)
    assert {c.item_id for c in found} == {"hot", "warm", "new"}
    ranked = rank(None, UserView("anyone"), found, live.get, no_meta, 0.0)
    assert [c.item_id for c, _ in ranked][:2] == ["hot", "warm"]
    assert np.all(np.diff([score for _, score in ranked]) <= 0)


def test_rebuy_appears_only_when_enabled(fitted: FittedModel) -> None:
    view = UserView("u0-1", purchased={"g0-i4": 3})
    off = generate(fitted.bundle, view, no_signals, no_meta, 0.0)
    on = generate(fitted.bundle, view, no_signals, no_meta, 0.0, config=CandidateConfig(rebuy=True))
    assert "rebuy" not in {c.source for c in off}
    assert any(c.source == "rebuy" and c.item_id == "g0-i4" for c in on)
