"""Hand-computed cases of the user fold."""

from __future__ import annotations

import pytest

from tables.user import (
    UserState,
    apply_interaction,
    category_affinity,
    event_weight,
    recent_items,
)
from tests.unit.tables.factories import DAY, T0, event
from tests.unit.tables.readers import history_json


def fold(events: list[tuple[str, float, str, str]], **options: int) -> UserState:
    state = None
    for event_id, timestamp, event_type, item_id in events:
        state, _ = apply_interaction(
            state, event(event_id, timestamp, event_type, item_id), "books", **options
        )
    assert state is not None
    return state


def test_history_keeps_the_newest_entries_in_event_time_order() -> None:
    state = fold([(f"e{n}", T0 + n, "view", f"i{n}") for n in range(5)], history_size=3)

    assert [entry.item_id for entry in state.history] == ["i2", "i3", "i4"]


def test_late_event_is_inserted_in_place() -> None:
    state = fold([("a", T0 + 10, "view", "i1"), ("b", T0 + 30, "view", "i3")])
    state, applied = apply_interaction(state, event("c", T0 + 20, "click", "i2"), None)

    assert applied
    assert [entry.item_id for entry in state.history] == ["i1", "i2", "i3"]
    assert state.last_seen == T0 + 30


def test_late_event_older_than_a_full_ring_is_counted_but_not_kept() -> None:
    state = fold([("a", T0 + 10, "view", "i1"), ("b", T0 + 20, "view", "i2")], history_size=2)
    state, applied = apply_interaction(state, event("c", T0, "click", "i0"), None, history_size=2)

    assert applied
    assert [entry.item_id for entry in state.history] == ["i1", "i2"]
    assert state.counts == {"view": 2, "click": 1}


def test_counters_purchases_and_version_follow_every_applied_event() -> None:
    state = fold(
        [
            ("a", T0, "view", "i1"),
            ("b", T0 + 5, "purchase", "i1"),
            ("c", T0 + 9, "purchase", "i1"),
            ("d", T0 + 2, "add_to_cart", "i2"),
        ]
    )

    assert state.counts == {"view": 1, "purchase": 2, "add_to_cart": 1}
    assert state.purchased == {"i1": 2}
    assert state.version == 4
    assert state.last_seen == T0 + 9


def test_repeated_event_id_leaves_the_state_unchanged() -> None:
    state = fold([("a", T0, "view", "i1")])
    before = state.to_json()

    state, applied = apply_interaction(state, event("a", T0 + 60, "purchase", "i9"), "toys")

    assert not applied
    assert state.to_json() == before


def test_dedupe_forgets_the_oldest_ids_beyond_its_bound() -> None:
    state = fold([(f"e{n}", T0 + n, "view", "i1") for n in range(3)], dedupe_size=2)

    assert state.recent_ids.ids() == ["e1", "e2"]
    state, applied = apply_interaction(state, event("e0", T0, "view", "i1"), None, dedupe_size=2)
    assert applied
    assert state.counts == {"view": 4}


def test_affinity_halves_after_one_half_life() -> None:
    state, _ = apply_interaction(None, event("a", T0, "view"), "books")

    assert category_affinity(state, T0 + 7 * DAY) == {"books": pytest.approx(0.5, rel=1e-12)}
    assert category_affinity(state, T0 + 14 * DAY) == {"books": pytest.approx(0.25, rel=1e-12)}


def test_affinity_weighs_event_types_and_decays_late_events_on_arrival() -> None:
    state, _ = apply_interaction(None, event("a", T0 + 7 * DAY, "view"), "books")
    state, _ = apply_interaction(state, event("b", T0, "purchase"), "books")
    state, _ = apply_interaction(state, event("c", T0 + 7 * DAY, "click"), "music")

    affinity = category_affinity(state, T0 + 7 * DAY)

    assert affinity == {"books": pytest.approx(1 + 8 * 0.5), "music": pytest.approx(2.0)}


def test_affinity_half_life_is_configurable() -> None:
    state, _ = apply_interaction(None, event("a", T0, "view"), "books", affinity_half_life=DAY)

    assert category_affinity(state, T0 + DAY, affinity_half_life=DAY)["books"] == pytest.approx(0.5)


def test_five_star_rating_weighs_like_a_purchase_and_views_weigh_one() -> None:
    assert event_weight("rating", 5.0) == pytest.approx(event_weight("purchase", None))
    assert event_weight("view", None) == 1.0
    assert event_weight("add_to_cart", None) == 4.0


def test_event_without_category_leaves_affinity_empty() -> None:
    state, _ = apply_interaction(None, event("a", T0, "view"), None)

    assert category_affinity(state, T0) == {}
    assert state.counts == {"view": 1}


def test_history_reads_newest_first_with_distinct_recent_items() -> None:
    state = fold(
        [("a", T0, "view", "i1"), ("b", T0 + 1, "view", "i2"), ("c", T0 + 2, "click", "i1")]
    )

    assert [row["event_id"] for row in history_json(state)] == ["c", "b", "a"]
    assert history_json(state)[0] == {
        "timestamp": T0 + 2,
        "event_id": "c",
        "item_id": "i1",
        "type": "click",
        "value": None,
    }
    assert recent_items(state) == ["i1", "i2"]
    assert recent_items(None) == []


def test_a_log_folds_into_the_hand_computed_state_and_replaying_it_changes_nothing() -> None:
    log = [("a", T0, "view", "i1"), ("b", T0 + 5, "purchase", "i2")]
    state = fold(log)

    facts = state.to_json()
    assert facts["history"] == [
        [T0, "a", "i1", "view", None],
        [T0 + 5, "b", "i2", "purchase", None],
    ]
    assert facts["counts"] == {"view": 1, "purchase": 1}
    assert facts["purchased"] == {"i2": 1}
    assert facts["interacted"] == {"i1": 1, "i2": 8}
    assert (facts["last_seen"], facts["version"]) == (T0 + 5, 2)
    # A view weighs 1 and has decayed for 5 s (7-day half-life) when the purchase (8) arrives.
    assert facts["affinity"] == {"books": pytest.approx(0.5 ** (5 / (7 * DAY)) + 8.0)}
    for event_id, timestamp, event_type, item_id in log:
        state, applied = apply_interaction(
            state, event(event_id, timestamp, event_type, item_id), "books"
        )
        assert not applied
    assert state.to_json() == facts
