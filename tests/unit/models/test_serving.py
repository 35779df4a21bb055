"""The whole serving pipeline on a synthetic catalog."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection

from models.context import StageObserver
from models.serving import PageQuery, ServingConfig, hydrate, recommend, similar_items
from models.types import HistoryItem, ItemMeta, ItemSignals, Recommendation, UserView

NOW = 1_700_000_000.0
CATEGORIES = ("crime", "drama", "comedy", "sci-fi", "horror")
CATALOG = {
    f"{cat}-{n}": ItemMeta(f"{cat}-{n}", f"{cat.title()} {n}", cat, tags=(cat, f"t{n % 3}"))
    for cat in CATEGORIES
    for n in range(8)
}
# Crime is by far the most popular, so an uncapped page would be all crime.
SIGNALS = {
    item_id: ItemSignals(
        item_id,
        events_all=(1000 if meta.category == "crime" else 10) + int(item_id[-1]),
        impressions=0 if item_id.endswith("-7") else 100,
    )
    for item_id, meta in CATALOG.items()
}

DEFAULT_CONFIG = ServingConfig()


def _serve(
    user: UserView,
    count: int = 10,
    *,
    exclude: Collection[str] = (),
    category: str | None = None,
    config: ServingConfig = DEFAULT_CONFIG,
    observe: StageObserver | None = None,
) -> list[Recommendation]:
    ctx = hydrate(
        None,
        user,
        SIGNALS.get,
        CATALOG.get,
        now=NOW,
        rng=random.Random(5),
        query=PageQuery(count, frozenset(exclude), category),
        config=config,
        catalog=CATALOG.values,
        observe=observe,
    )
    return recommend(ctx)


def test_unknown_user_gets_a_full_cold_start_page_with_reasons() -> None:
    page = _serve(UserView("stranger"))
    assert len(page) == 10
    assert len({r.item_id for r in page}) == 10
    assert all(r.reason.text and r.reason.type for r in page)


def test_page_respects_the_diversity_cap() -> None:
    page = _serve(UserView("stranger"))
    counts = Counter(CATALOG[r.item_id].category for r in page)
    assert max(counts.values()) == 5
    assert counts["crime"] == 5
    capped = _serve(UserView("stranger"), config=ServingConfig(max_category_share=0.3))
    counts = Counter(CATALOG[r.item_id].category for r in capped)
    assert max(counts.values()) == 3


def test_exploration_fills_exactly_the_configured_slots() -> None:
    page = _serve(UserView("stranger"), config=ServingConfig(exploration_slots=2))
    assert sum(r.source == "explore" for r in page) == 2
    none = _serve(UserView("stranger"), config=ServingConfig(exploration_slots=0))
    assert sum(r.source == "explore" for r in none) == 0


def test_purchased_and_excluded_items_never_appear() -> None:
    user = UserView("u", purchased={"crime-7": 1, "crime-6": 1})
    page = _serve(user, count=40, exclude={"crime-5"})
    served = {r.item_id for r in page}
    assert served.isdisjoint({"crime-7", "crime-6", "crime-5"})
    rebuy = _serve(user, count=40, config=ServingConfig(rebuy=True, max_category_share=1.0))
    assert "crime-7" in {r.item_id for r in rebuy}


def test_category_parameter_returns_only_that_category_uncapped() -> None:
    page = _serve(UserView("u"), count=6, category="drama")
    assert len(page) == 6
    assert {CATALOG[r.item_id].category for r in page} == {"drama"}


def test_recent_history_anchors_personal_reasons() -> None:
    user = UserView("u", history=(HistoryItem("horror-1", "view", NOW - 60),))
    page = _serve(user)
    # horror-1 itself may come back, naming itself ("You looked at Horror 1 before").
    anchored = [
        r for r in page if r.reason.anchor_item_id == "horror-1" and r.item_id != "horror-1"
    ]
    assert anchored
    assert anchored[0].reason.text == "Because you viewed Horror 1"


def test_opted_out_user_gets_the_non_personalised_page() -> None:
    history = (HistoryItem("horror-1", "view", NOW - 60),)
    opted_out = _serve(UserView("u", history=history, opted_out=True))
    anonymous = _serve(UserView("u"))
    assert [r.item_id for r in opted_out] == [r.item_id for r in anonymous]
    assert all(r.reason.anchor_item_id is None for r in opted_out)


def test_every_stage_reports_its_latency() -> None:
    seen: list[str] = []
    _serve(UserView("u"), observe=lambda stage, seconds: seen.append(stage))
    assert {"candidates", "rank", "rules"} <= set(seen)


def test_similar_items_share_category_and_tags() -> None:
    similar = similar_items(None, "crime-1", CATALOG.get, CATALOG.values, 3)
    assert len(similar) == 3
    assert all(CATALOG[i].category == "crime" for i, _ in similar)
    assert similar[0][1] >= similar[-1][1]
    assert similar_items(None, "missing", CATALOG.get, CATALOG.values, 3) == []
