"""Hand-computed cases of the consumed set: interaction bits per item, recency, cap, dislikes."""

from __future__ import annotations

from typing import Any

from streamrec.interactions import CLICK, DISLIKED, PURCHASE, RATING, VIEW
from tables.user import UserState, apply_interaction
from tests.unit.tables.factories import T0, event

Step = tuple[str, float, str, str, float | None]


def fold(steps: list[Step], state: UserState | None = None, **options: Any) -> UserState:
    for event_id, timestamp, event_type, item_id, value in steps:
        state, _ = apply_interaction(
            state, event(event_id, timestamp, event_type, item_id, value), None, **options
        )
    assert state is not None
    return state


def test_each_item_keeps_the_bits_of_every_type_the_user_had_with_it() -> None:
    state = fold(
        [
            ("a", T0, "view", "i1", None),
            ("b", T0 + 1, "click", "i1", None),
            ("c", T0 + 2, "purchase", "i1", None),
            ("d", T0 + 3, "rating", "i2", 4.0),
        ]
    )

    assert state.interacted == {"i1": VIEW | CLICK | PURCHASE, "i2": RATING}


def test_touching_an_item_again_makes_it_the_newest() -> None:
    state = fold(
        [
            ("a", T0, "view", "i1", None),
            ("b", T0 + 1, "view", "i2", None),
            ("c", T0 + 2, "click", "i1", None),
        ]
    )

    assert list(state.interacted) == ["i2", "i1"]


def test_over_the_cap_the_least_recently_touched_items_are_dropped() -> None:
    steps: list[Step] = [
        ("a", T0, "rating", "i1", 1.0),
        ("b", T0 + 1, "view", "i2", None),
        ("c", T0 + 2, "view", "i3", None),
        ("d", T0 + 3, "view", "i2", None),
        ("e", T0 + 4, "view", "i4", None),
    ]

    state = fold(steps, consumed_cap=2)

    assert list(state.interacted) == ["i2", "i4"]
    assert state.rated_at == {}


def test_a_low_latest_rating_marks_the_item_disliked_and_a_better_one_clears_it() -> None:
    state = fold([("a", T0, "rating", "i1", 2.0)])
    assert state.interacted["i1"] == RATING | DISLIKED

    state = fold([("b", T0 + 5, "rating", "i1", 4.0)], state)
    assert state.interacted["i1"] == RATING


def test_a_late_older_low_rating_does_not_override_the_latest_one() -> None:
    state = fold([("a", T0 + 5, "rating", "i1", 5.0), ("b", T0, "rating", "i1", 1.0)])

    assert state.interacted["i1"] == RATING
    assert state.rated_at == {"i1": T0 + 5}


def test_ratings_at_the_same_moment_count_as_disliked_if_any_is_low() -> None:
    state = fold([("a", T0, "rating", "i1", 1.0), ("b", T0, "rating", "i1", 5.0)])

    assert state.interacted["i1"] == RATING | DISLIKED


def test_the_dislike_threshold_is_an_option_and_a_rating_without_value_is_not_low() -> None:
    state = fold(
        [("a", T0, "rating", "i1", 3.0), ("b", T0, "rating", "i2", None)], dislike_rating=3.0
    )

    assert state.interacted == {"i1": RATING | DISLIKED, "i2": RATING}


def test_the_consumed_set_survives_a_json_round_trip_in_recency_order() -> None:
    state = fold([("a", T0 + 9, "rating", "i9", 1.0), ("b", T0, "purchase", "i1", None)])

    restored = UserState.from_json(state.to_json())

    assert list(restored.interacted.items()) == [("i9", RATING | DISLIKED), ("i1", PURCHASE)]
    assert restored.rated_at == {"i9": T0 + 9}


def test_a_state_stored_before_the_consumed_set_loads_with_an_empty_one() -> None:
    stored = fold([("a", T0, "view", "i1", None)]).to_json()
    del stored["interacted"], stored["rated_at"]

    state = UserState.from_json(stored)

    assert state.interacted == {} and state.rated_at == {}
    assert fold([("b", T0 + 1, "view", "i2", None)], state).interacted == {"i2": VIEW}
