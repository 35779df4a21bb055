"""The serving pipeline's steps and consumption policy on a synthetic catalog."""

from __future__ import annotations

import random

from models.context import CONTEXT_STAGE, StageObserver
from models.serving import STEPS, PageQuery, ServingConfig, hydrate, recommend
from models.types import HistoryItem, ItemMeta, ItemSignals, Recommendation, UserView

NOW = 1_700_000_000.0
CATEGORIES = ("crime", "drama", "comedy", "sci-fi", "horror")
CATALOG = {
    f"{cat}-{n}": ItemMeta(f"{cat}-{n}", f"{cat.title()} {n}", cat, tags=(cat, f"t{n % 3}"))
    for cat in CATEGORIES
    for n in range(8)
}
# crime-7 is the single most popular item of the catalog.
SIGNALS = {
    item_id: ItemSignals(
        item_id,
        events_all=(1000 if meta.category == "crime" else 10) + int(item_id[-1]),
        impressions=0 if item_id.endswith("-7") else 100,
    )
    for item_id, meta in CATALOG.items()
}
MOST_POPULAR = "crime-7"
VIEWED = "drama-3"

DEFAULT_CONFIG = ServingConfig()


def _serve(
    user: UserView,
    count: int = 10,
    *,
    config: ServingConfig = DEFAULT_CONFIG,
    observe: StageObserver | None = None,
) -> list[Recommendation]:
    ctx = hydrate(
        None,
        user,
        SIGNALS.get,
        CATALOG.get,
        now=NOW,
        rng=random.Random(7),
        query=PageQuery(count),
        config=config,
        catalog=CATALOG.values,
        observe=observe,
    )
    return recommend(ctx)


def test_the_context_and_every_step_are_observed_once_per_request_in_order() -> None:
    steps = [name for name, _ in STEPS]
    assert steps == ["candidates", "filters", "features", "rank", "explore", "rules", "reasons"]
    names = [CONTEXT_STAGE, *steps]
    seen: list[str] = []
    seconds: list[float] = []

    def observe(stage: str, elapsed: float) -> None:
        seen.append(stage)
        seconds.append(elapsed)

    user = UserView("u", history=(HistoryItem("horror-1", "view", NOW - 60),))
    _serve(user, observe=observe)
    assert seen == names
    assert all(elapsed >= 0.0 for elapsed in seconds)
    _serve(UserView("stranger"), observe=observe)
    assert seen == names + names


def test_rated_items_never_come_back_and_viewed_ones_say_so() -> None:
    history = (
        HistoryItem(MOST_POPULAR, "rating", NOW - 120, value=5.0),
        HistoryItem(VIEWED, "view", NOW - 60),
    )
    rater = UserView("u", history=history)
    # Without the rating the most popular item is on the page.
    assert MOST_POPULAR in {r.item_id for r in _serve(UserView("u", history=history[1:]))}
    assert MOST_POPULAR not in {r.item_id for r in _serve(rater)}
    # The whole catalog, uncapped: everything but the rated item, the viewed one included.
    everything = _serve(rater, count=len(CATALOG), config=ServingConfig(max_category_share=1.0))
    served = {r.item_id: r for r in everything}
    assert MOST_POPULAR not in served
    assert len(served) == len(CATALOG) - 1
    again = served[VIEWED].reason
    assert (again.type, again.anchor_item_id) == ("viewed_before", VIEWED)
    assert again.text == "You looked at Drama 3 before"
