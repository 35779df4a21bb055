"""Table rows as the value types serving reads."""

from __future__ import annotations

from agents.views import item_signals, user_view
from streamrec.interactions import DISLIKED, RATING, VIEW
from tables.item import ItemState, apply_item_event, trending_score, window_total
from tables.user import UserState, apply_interaction
from tests.unit.tables.factories import event
from tests.unit.tables.readers import window_count

NOW = 1_700_000_000.0


def test_item_signals_count_each_window_as_the_table_functions_do() -> None:
    state: ItemState | None = None
    kinds = ("view", "click", "purchase", "view", "rating", "add_to_cart")
    for n in range(60):
        folded = event(f"e{n}", NOW - n * 1700.0, kinds[n % len(kinds)], item_id="i")
        state = apply_item_event(state, folded)
    assert state is not None
    signals = item_signals("i", state.to_json(), NOW)
    assert signals is not None
    assert signals.views_24h == window_count(state, "view", "24h", NOW) > 0
    assert signals.clicks_24h == window_count(state, "click", "24h", NOW) > 0
    assert signals.purchases_24h == window_count(state, "purchase", "24h", NOW) > 0
    assert signals.events_1h == window_total(state, "1h", NOW) > 0
    assert signals.events_all == window_total(state, "all", NOW) == 60
    assert signals.trending == trending_score(state, NOW)


def test_user_view_carries_the_consumed_set_in_recency_order() -> None:
    state: UserState | None = None
    for folded in (event("a", NOW, "rating", "i1", 1.0), event("b", NOW + 1, "view", "i2")):
        state, _ = apply_interaction(state, folded, None)
    assert state is not None

    view = user_view("u1", state.to_json(), None)

    assert view is not None
    assert list(view.interacted.items()) == [("i1", RATING | DISLIKED), ("i2", VIEW)]
