"""Thompson sampling over the exploration pool."""

from __future__ import annotations

import random

from models.exploration import (
    exploration_slots,
    place_explorers,
    slot_positions,
    thompson_pick,
)
from models.types import Candidate, ItemSignals


def _signals(arms: dict[str, tuple[float, float]]) -> dict[str, ItemSignals]:
    return {i: ItemSignals(i, arm_alpha=a, arm_beta=b) for i, (a, b) in arms.items()}


def test_thompson_pick_fills_exactly_the_requested_slots_labelled_explore() -> None:
    pool = [Candidate(f"i{n}", "explore", 0.0) for n in range(6)]
    picked = thompson_pick(pool, lambda _: None, random.Random(1), 2)
    assert len(picked) == 2
    assert {c.source for c in picked} == {"explore"}
    assert len({c.item_id for c in picked}) == 2


def test_thompson_pick_prefers_the_arm_with_the_higher_posterior() -> None:
    table = _signals({"good": (90.0, 10.0), "bad": (10.0, 90.0)})
    pool = [Candidate("good", "explore", 0.0), Candidate("bad", "explore", 0.0)]
    rng = random.Random(7)
    wins = sum(thompson_pick(pool, table.get, rng, 1)[0].item_id == "good" for _ in range(200))
    assert wins >= 195


def test_thompson_pick_explores_uncertain_arms_sometimes() -> None:
    table = _signals({"known": (6.0, 4.0), "new": (1.0, 1.0)})
    pool = [Candidate("known", "explore", 0.0), Candidate("new", "explore", 0.0)]
    rng = random.Random(3)
    picks = [thompson_pick(pool, table.get, rng, 1)[0].item_id for _ in range(400)]
    assert 40 < picks.count("new") < 360


def test_same_seed_gives_the_same_draws() -> None:
    pool = [Candidate(f"i{n}", "explore", 0.0) for n in range(10)]
    first = thompson_pick(pool, lambda _: None, random.Random(42), 3)
    second = thompson_pick(pool, lambda _: None, random.Random(42), 3)
    assert [c.item_id for c in first] == [c.item_id for c in second]


def test_exploration_never_takes_more_than_half_a_page() -> None:
    assert exploration_slots(2, 10) == 2
    assert exploration_slots(5, 4) == 2
    assert exploration_slots(2, 1) == 0


def test_explorers_are_spread_over_the_page_and_keep_ranked_order_elsewhere() -> None:
    ranked = [Candidate(f"r{n}", "trending", 1.0 - n / 10) for n in range(10)]
    explorers = [Candidate("e0", "explore", 0.5), Candidate("e1", "explore", 0.4)]
    page = place_explorers(ranked, explorers, 10)
    assert len(page) == 10
    assert [page[p].item_id for p in slot_positions(2, 10)] == ["e0", "e1"]
    assert [c.item_id for c in page if c.source != "explore"] == [f"r{n}" for n in range(8)]


def test_explorers_at_the_bottom_take_the_last_positions() -> None:
    ranked = [Candidate(f"r{n}", "trending", 1.0 - n / 10) for n in range(10)]
    explorers = [Candidate("e0", "explore", 0.5), Candidate("e1", "explore", 0.4)]
    page = place_explorers(ranked, explorers, 10, at_bottom=True)
    assert [c.item_id for c in page] == [*(f"r{n}" for n in range(8)), "e0", "e1"]
    assert slot_positions(1, 4, at_bottom=True) == [3]
    assert slot_positions(0, 4, at_bottom=True) == []
