"""Properties of the folds: idempotence, order independence and lossless JSON round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.records import Interaction
from tables.catalog import CatalogEntry
from tables.codec import STATE_TYPES, decode, encode
from tables.consent import ConsentState
from tables.item import ItemState, apply_impression, apply_item_event
from tables.user import UserState, apply_interaction, category_affinity
from tables.variant_sums import VariantSums
from tables.windows import WINDOW_NAMES
from tests.unit.tables.factories import CATEGORIES, DAY, HOUR, T0, event_batches
from tests.unit.tables.readers import window_counts

FAST = settings(max_examples=40, deadline=None, database=None)

NOWS = (T0, T0 + 3 * 60, T0 + 40 * 60, T0 + 20 * HOUR, T0 + 2 * DAY)


def fold_user(events: list[Interaction], history_size: int = 10) -> UserState | None:
    state = None
    for item in events:
        state, _ = apply_interaction(
            state, item, CATEGORIES[item.item_id], history_size=history_size
        )
    return state


def fold_item(events: list[Interaction]) -> ItemState | None:
    state = None
    for item in events:
        state = apply_item_event(state, item)
    return state


def user_facts(state: UserState | None) -> dict[str, Any]:
    assert state is not None
    facts = state.to_json()
    del facts["affinity"], facts["recent_event_ids"]
    return facts


def window_table(state: ItemState | None) -> list[dict[str, int]]:
    return [window_counts(state, window, now) for window in WINDOW_NAMES for now in NOWS]


def json_round_trip(state: Any) -> Any:
    return decode(type(state), json.loads(json.dumps(encode(state))))


@FAST
@given(event_batches(max_size=16), st.data())
def test_applying_an_event_twice_equals_applying_it_once(
    batch: list[Interaction], data: st.DataObject
) -> None:
    doubled = [item for item in batch for _ in range(2)]
    shuffled = data.draw(st.permutations(batch + batch[: len(batch) // 2]))

    once = fold_user(batch)
    for twice in (fold_user(doubled), fold_user(shuffled)):
        assert (once is None) == (twice is None)
        if once is not None and twice is not None:
            assert user_facts(twice)["version"] == len(batch)
            assert user_facts(twice) == user_facts(once)


@FAST
@given(event_batches(max_size=16))
def test_a_repeated_event_returns_not_applied_and_keeps_the_exact_state(
    batch: list[Interaction],
) -> None:
    state = fold_user(batch)
    if state is None:
        return
    before, recency = state.to_json(), list(state.interacted)
    for item in batch:
        state, applied = apply_interaction(state, item, CATEGORIES[item.item_id])
        assert not applied
    assert state.to_json() == before
    assert list(state.interacted) == recency


@FAST
@given(event_batches(), st.data())
def test_any_order_gives_the_same_user_counters_history_and_affinity(
    batch: list[Interaction], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(batch))

    in_order, reordered = fold_user(batch), fold_user(shuffled)

    if in_order is None or reordered is None:
        assert in_order is reordered is None
        return
    assert user_facts(reordered) == user_facts(in_order)
    assert set(reordered.recent_ids.ids()) == set(in_order.recent_ids.ids())
    expected = category_affinity(in_order, T0)
    assert category_affinity(reordered, T0) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@FAST
@given(event_batches(), st.integers(1, 4))
def test_the_consumed_set_keeps_the_last_touched_items_up_to_the_cap(
    batch: list[Interaction], cap: int
) -> None:
    state = None
    for item in batch:
        state, _ = apply_interaction(state, item, None, consumed_cap=cap)
    last_touched = list(dict.fromkeys(item.item_id for item in reversed(batch)))[:cap]

    kept = [] if state is None else list(state.interacted)

    assert kept == last_touched[::-1]
    assert state is None or set(state.rated_at) <= set(kept)


@FAST
@given(event_batches(), st.data())
def test_any_order_gives_the_same_window_counts(
    batch: list[Interaction], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(batch))

    in_order, reordered = fold_item(batch), fold_item(shuffled)

    assert window_table(reordered) == window_table(in_order)
    if in_order is not None and reordered is not None:
        assert reordered.to_json()["windows"] == in_order.to_json()["windows"]


@FAST
@given(event_batches(), st.lists(st.floats(T0 - 3 * DAY, T0), max_size=10))
def test_user_and_item_states_survive_a_json_round_trip(
    batch: list[Interaction], impressions: list[float]
) -> None:
    user, item = fold_user(batch), fold_item(batch)
    for timestamp in impressions:
        item = apply_impression(item, timestamp, count=3)

    assert json_round_trip(user) == user
    assert json_round_trip(item) == item


@FAST
@given(
    st.one_of(
        st.builds(
            CatalogEntry,
            item_id=st.text(min_size=1),
            title=st.text(),
            category=st.text(),
            tags=st.lists(st.text()),
            price=st.none() | st.floats(0, 1e6),
            in_stock=st.booleans(),
            created_at=st.floats(0, T0),
            updated_at=st.floats(0, T0),
        ),
        st.builds(ConsentState, st.booleans(), st.floats(0, T0), st.none() | st.floats(0, T0)),
        st.builds(VariantSums, *[st.integers(0, 10**9)] * 12),
    )
)
def test_catalog_consent_and_tally_states_survive_a_json_round_trip(state: Any) -> None:
    assert json_round_trip(state) == state
    assert type(state) in STATE_TYPES.values()


def test_missing_state_encodes_as_a_tombstone() -> None:
    assert encode(None) is None
    assert decode(UserState, None) is None
