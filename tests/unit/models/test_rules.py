"""Filters, boosts and the diversity cap."""

from __future__ import annotations

from collections import Counter

from models.consumption import ConsumptionPolicy
from models.context import consumption
from models.rules import Boosts, Filters, boost, category_cap, diversify
from models.types import Candidate, ItemMeta, ItemSignals, UserView
from models.weights import EventWeighting
from tests.unit.models.reference import apply_filters

CATALOG = {
    "a": ItemMeta("a", "A", "books"),
    "b": ItemMeta("b", "B", "books", in_stock=False),
    "c": ItemMeta("c", "C", "music"),
    "d": ItemMeta("d", "D", "music"),
}


def _candidates(*ids: str) -> list[Candidate]:
    return [Candidate(i, "trending", 1.0) for i in ids]


def test_purchased_items_are_filtered_unless_rebuy_is_on() -> None:
    # The consumption policy decides what never comes back; the filters drop it as excluded.
    user = UserView("u", purchased={"a": 1})
    consumed = consumption(user, ConsumptionPolicy(rebuy=False), EventWeighting())
    kept = apply_filters(_candidates("a", "c"), CATALOG.get, Filters(exclude=consumed.never))
    assert [c.item_id for c in kept] == ["c"]
    again = consumption(user, ConsumptionPolicy(rebuy=True), EventWeighting())
    rebuy = apply_filters(_candidates("a", "c"), CATALOG.get, Filters(exclude=again.never))
    assert [c.item_id for c in rebuy] == ["a", "c"]


def test_out_of_stock_deleted_and_excluded_items_are_dropped() -> None:
    kept = apply_filters(
        _candidates("a", "b", "gone", "c", "d"), CATALOG.get, Filters(exclude={"d"})
    )
    assert [c.item_id for c in kept] == ["a", "c"]


def test_category_filter_keeps_only_that_category() -> None:
    kept = apply_filters(_candidates("a", "c", "d"), CATALOG.get, Filters(category="music"))
    assert [c.item_id for c in kept] == ["c", "d"]


def test_duplicate_candidates_keep_the_first_source() -> None:
    pool = [Candidate("a", "item2item", 2.0, "c"), Candidate("a", "trending", 1.0)]
    kept = apply_filters(pool, CATALOG.get, Filters())
    assert [(c.item_id, c.source) for c in kept] == [("a", "item2item")]


def test_diversity_cap_is_thirty_percent_of_a_page_of_ten() -> None:
    meta = {f"x{n}": ItemMeta(f"x{n}", category="x") for n in range(10)}
    meta.update({f"y{n}": ItemMeta(f"y{n}", category=f"y{n}") for n in range(10)})
    ranked = [Candidate(f"x{n}", "trending", 2.0) for n in range(10)]
    ranked += [Candidate(f"y{n}", "trending", 1.0) for n in range(10)]
    page = diversify(ranked, meta.get, 10, 0.3)
    categories = Counter(meta[c.item_id].category for c in page)
    assert len(page) == 10
    assert categories["x"] == 3
    assert [c.item_id for c in page[:3]] == ["x0", "x1", "x2"]


def test_diversity_does_not_apply_to_pages_smaller_than_four() -> None:
    assert category_cap(3, 0.3) is None
    assert category_cap(4, 0.3) == 1
    meta = {f"x{n}": ItemMeta(f"x{n}", category="x") for n in range(3)}
    ranked = [Candidate(f"x{n}", "trending", 1.0) for n in range(3)]
    assert len(diversify(ranked, meta.get, 3, 0.3)) == 3


def test_reserved_items_count_towards_the_cap() -> None:
    meta = {f"x{n}": ItemMeta(f"x{n}", category="x") for n in range(10)}
    meta.update({f"y{n}": ItemMeta(f"y{n}", category=f"y{n}") for n in range(10)})
    ranked = [Candidate(f"x{n}", "trending", 1.0) for n in range(1, 10)]
    ranked += [Candidate(f"y{n}", "trending", 1.0) for n in range(10)]
    page = diversify(ranked, meta.get, 10, 0.3, reserved=[Candidate("x0", "explore", 0.0)])
    assert len(page) == 9
    assert sum(meta[c.item_id].category == "x" for c in page) == 2


def test_fresh_and_unexposed_items_are_boosted_above_equal_peers() -> None:
    now = 1_000_000.0
    meta = {
        "old": ItemMeta("old", created_at=now - 365 * 86_400),
        "new": ItemMeta("new", created_at=now - 60),
    }
    signals = {
        "old": ItemSignals("old", impressions=500),
        "new": ItemSignals("new", impressions=500),
        "unseen": ItemSignals("unseen", impressions=0),
    }
    meta["unseen"] = ItemMeta("unseen", created_at=now - 365 * 86_400)
    ranked = [Candidate(i, "trending", 1.0) for i in ("old", "new", "unseen")]
    boosted = boost(ranked, signals.get, meta.get, now, Boosts())
    assert [c.item_id for c in boosted] == ["new", "unseen", "old"]
    assert boosted[0].score > boosted[1].score > boosted[2].score
