"""The experiment tally fold: deduplication, crediting by request id, exact user-level sums."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tables.experiments import (
    SEEN_PER_SLOT,
    TallyFold,
    UserExposure,
    arm_key,
    sums_key,
    user_key,
)
from tables.variant_sums import VariantSums

A = arm_key("exp", "run1", "control")
B = arm_key("exp", "run1", "treatment")
L = arm_key("layout", "run2", "grid")


class Store(dict[str, Any]):
    """One partition of the table: what folds read, updated with what they wrote."""

    def fold(self) -> TallyFold:
        return TallyFold(0, self.get)

    def commit(self, fold: TallyFold) -> None:
        for key, value in fold.writes.items():
            if value is None:
                self.pop(key, None)
            else:
                self[key] = value

    def sums(self, arm: str) -> VariantSums:
        stored = self.get(sums_key(arm, 0))
        return VariantSums.from_json(stored) if stored else VariantSums()


def test_a_replayed_impression_counts_once_and_a_user_is_counted_once_per_arm() -> None:
    store = Store()
    fold = store.fold()
    assert fold.impression("u1", "r1", [A], 10)
    assert not fold.impression("u1", "r1", [A], 10)
    assert fold.impression("u1", "r2", [A], 5)
    store.commit(fold)
    again = store.fold()  # as after a restart: the seen ids come back from the table
    assert not again.impression("u1", "r2", [A], 5)
    sums = store.sums(A)
    assert (sums.users, sums.requests, sums.impressions, sums.impressions_sq) == (1, 2, 15, 225)


def test_a_click_is_credited_only_to_the_arms_that_served_its_request() -> None:
    store = Store()
    fold = store.fold()
    fold.impression("u1", "r1", [A, L], 10)
    fold.impression("u2", "r2", [B], 10)
    assert fold.outcome("u1", "e1", "r1", "click")
    assert fold.outcome("u2", "e2", "r2", "purchase")
    assert not fold.outcome("u2", "e2", "r2", "purchase")  # redelivered event id
    assert not fold.outcome("u2", "e3", "r2", "view")  # not a credited type
    store.commit(fold)
    assert (store.sums(A).clicks, store.sums(L).clicks, store.sums(B).clicks) == (1, 1, 0)
    assert (store.sums(A).conversions, store.sums(B).conversions) == (0, 1)
    assert store.sums(B).converted == 1


def test_a_click_before_its_impression_waits_for_it() -> None:
    store = Store()
    fold = store.fold()
    assert fold.outcome("u1", "e1", "r1", "click")
    assert store.sums(A).clicks == 0
    fold.impression("u1", "r1", [A], 4)
    store.commit(fold)
    assert (store.sums(A).clicks, store.sums(A).clicks_impressions) == (1, 4)
    assert UserExposure.from_json(store[user_key("u1")]).pending == []
    idle = store.fold()  # no experiment to wait for: nothing is written
    assert not idle.outcome("u9", "e9", "r9", "click", hold=False)
    assert idle.writes == {}


def test_erasing_a_user_removes_exactly_their_contributions() -> None:
    store = Store()
    fold = store.fold()
    fold.impression("u1", "r1", [A], 10)
    fold.outcome("u1", "e1", "r1", "click")
    fold.impression("u2", "r2", [A], 3)
    store.commit(fold)
    only_u2 = Store()
    other = only_u2.fold()
    other.impression("u2", "r2", [A], 3)
    only_u2.commit(other)
    erasing = store.fold()
    erasing.erase("u1")
    store.commit(erasing)
    assert store.sums(A) == only_u2.sums(A)
    assert user_key("u1") not in store


def test_seen_ids_are_bounded_per_slot() -> None:
    store = Store()
    fold = store.fold()
    for n in range(SEEN_PER_SLOT * 70):
        fold.impression("u1", f"r{n}", [A], 1)
    store.commit(fold)
    slots = [value for key, value in store.items() if key.startswith("s|0|")]
    assert slots and all(count <= SEEN_PER_SLOT for _, count in slots)


STEPS = st.lists(
    st.tuples(
        st.sampled_from(["imp", "click", "purchase"]),
        st.sampled_from(["u1", "u2", "u3"]),
        st.sampled_from(["r1", "r2", "r3", "r4"]),
        st.integers(0, 5),
    ),
    max_size=40,
)


def _apply(store: Store, steps: list[tuple[str, str, str, int]]) -> None:
    fold = store.fold()
    for n, (kind, user, request, size) in enumerate(steps):
        # A request id belongs to one user and one arm; an event id to one step.
        owner = f"{user}:{request}"
        if kind == "imp":
            fold.impression(user, owner, [A if request in ("r1", "r2") else B], size)
        else:
            fold.outcome(user, f"e{n}", owner, kind)
    store.commit(fold)


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_sums_are_exact_per_user_sums_and_a_replay_changes_nothing(
    steps: list[tuple[str, str, str, int]],
) -> None:
    store = Store()
    _apply(store, steps)
    first = {arm: store.sums(arm) for arm in (A, B)}
    _apply(store, steps)  # the same records delivered again
    assert {arm: store.sums(arm) for arm in (A, B)} == first
    for arm in (A, B):
        expected = VariantSums()
        for key, value in store.items():
            if key.startswith("u|"):
                counts = UserExposure.from_json(value).arms.get(arm)
                if counts is not None:
                    expected.add(counts, 1)
        assert first[arm] == expected
