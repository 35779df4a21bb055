"""Temporal and RecBole splits on small event logs whose right answer is known."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import pytest

from offline.splits import (
    default_cutoff,
    k_core,
    recbole_split,
    split_counts,
    split_events,
    temporal_split,
)


def _events(rows: Sequence[tuple[str, str, str, float, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "user_id": pl.String,
            "item_id": pl.String,
            "type": pl.String,
            "timestamp": pl.Float64,
            "value": pl.Float64,
        },
        orient="row",
    )


def test_default_cutoff_puts_eighty_percent_of_events_in_training() -> None:
    events = _events([("u", f"i{n}", "click", float(n), None) for n in range(10)])
    cutoff = default_cutoff(events)
    assert events.filter(pl.col("timestamp") < cutoff).height == 8


def test_temporal_test_keeps_new_positive_items_of_users_seen_in_training() -> None:
    events = _events(
        [
            ("u1", "a", "click", 1.0, None),
            ("u2", "b", "view", 2.0, None),
            ("u1", "a", "purchase", 10.0, None),  # seen in training: not relevant
            ("u1", "c", "rating", 11.0, 4.0),  # new positive: relevant
            ("u1", "d", "rating", 12.0, 2.0),  # low rating: not relevant
            ("u2", "e", "view", 13.0, None),  # a view: not relevant
            ("u2", "f", "add_to_cart", 14.0, None),  # relevant
            ("u3", "g", "purchase", 15.0, None),  # user unknown in training
        ]
    )
    split = temporal_split(events, cutoff=5.0)
    assert split.train.height == 2
    assert split.test.rows() == [("u1", "c"), ("u2", "f")]
    assert sorted(split.exclude.rows()) == [("u1", "a"), ("u2", "b")]
    assert split.items == ["a", "b", "c", "d", "e", "f", "g"]


def test_split_counts_follow_recbole_rounding() -> None:
    assert split_counts(10, (0.8, 0.1, 0.1)) == (8, 1, 1)
    assert split_counts(15, (0.8, 0.1, 0.1)) == (13, 1, 1)
    assert split_counts(29, (0.8, 0.1, 0.1)) == (25, 2, 2)
    assert split_counts(5, (0.8, 0.1, 0.1)) == (3, 1, 1)


def test_k_core_filtering_iterates_to_a_fixed_point() -> None:
    pairs = pl.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u2", "u3", "u4", "u4"],
            "item_id": ["a", "b", "a", "b", "c", "c", "a"],
        }
    )
    kept = k_core(pairs, 2)
    # u3 drops, so c drops, so u4 drops (one item left), leaving u1, u2 x a, b.
    assert sorted(kept.rows()) == [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b")]


def _dense_ratings(users: int, items: int) -> pl.DataFrame:
    rows = [
        (f"u{u}", f"i{i}", "rating", float(u * items + i), float(1 + (u + i) % 5))
        for u in range(users)
        for i in range(items)
    ]
    return _events(rows)


def test_recbole_split_keeps_ratings_of_three_or_more_and_splits_each_user_8_1_1() -> None:
    events = _dense_ratings(users=30, items=40)
    split = recbole_split(events, seed=7)
    positives = events.filter(pl.col("value") >= 3)
    per_user = positives.group_by("user_id").len()
    for user, total in per_user.iter_rows():
        train, valid, test = split_counts(total, (0.8, 0.1, 0.1))
        assert split.train.filter(pl.col("user_id") == user).height == train
        assert split.test.filter(pl.col("user_id") == user).height == test
        assert split.exclude.filter(pl.col("user_id") == user).height == train + valid
    assert split.test.join(split.exclude, on=["user_id", "item_id"]).is_empty()
    assert split.train["value"].min() == 3.0


def test_recbole_split_is_reproducible_with_a_seed_and_changes_with_another() -> None:
    events = _dense_ratings(users=20, items=30)
    first, again = recbole_split(events, seed=1), recbole_split(events, seed=1)
    other = recbole_split(events, seed=2)
    assert first.test.equals(again.test)
    assert not first.test.equals(other.test)


def test_recbole_split_drops_users_with_fewer_than_ten_positives() -> None:
    events = pl.concat(
        [_dense_ratings(users=20, items=40), _events([("lone", "i1", "rating", 0.0, 5.0)])]
    )
    split = recbole_split(events)
    assert "lone" not in split.train["user_id"].to_list()


def test_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown protocol"):
        split_events(_dense_ratings(users=2, items=2), "leave-one-out")
