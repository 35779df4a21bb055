"""The repeat rate training measures and the consumption policy it recommends."""

from __future__ import annotations

import polars as pl
import pytest

from models.consumption import ConsumptionPolicy, resolve
from offline.policy import recommend_policy, repeat_rates

Row = tuple[str, str, str, float, float | None]


def frame(rows: list[Row]) -> pl.DataFrame:
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
    ).with_row_index("event_id")


def grocery() -> pl.DataFrame:
    """Each shopper buys the same staples week after week, and views a few other things."""
    rows: list[Row] = []
    for user in ("u1", "u2", "u3"):
        for week in range(6):
            at = week * 7 * 86400.0
            rows += [(user, item, "purchase", at, None) for item in ("milk", "bread", "eggs")]
            rows.append((user, f"other{week}", "view", at + 1, None))
    return frame(rows)


def movies() -> pl.DataFrame:
    """Each viewer rates every film once, loved or not."""
    rows: list[Row] = [
        (user, f"film{n}", "rating", float(n), float(1 + (n + len(user)) % 5))
        for user in ("u1", "u22", "u333")
        for n in range(20)
    ]
    return frame(rows)


def test_a_grocery_catalogue_repeats_and_gets_rebuy() -> None:
    recommended = recommend_policy(grocery())

    assert recommended["repeat_rate"] == pytest.approx(15 / 18)
    assert recommended["rebuy"] is True
    assert resolve((), None, {"policy": recommended}).rebuy


def test_a_film_catalogue_rated_once_per_film_does_not_get_rebuy() -> None:
    recommended = recommend_policy(movies())

    assert recommended["repeat_rate"] == 0.0
    assert recommended["rebuy"] is False
    assert resolve((), None, {"policy": recommended}) == ConsumptionPolicy()


def test_only_positive_interactions_count_towards_repeats() -> None:
    rows: list[Row] = [
        ("u1", "a", "view", 1.0, None),
        ("u1", "a", "view", 2.0, None),
        ("u1", "a", "rating", 3.0, 2.0),
        ("u1", "a", "rating", 4.0, 4.0),
        ("u1", "a", "click", 5.0, None),
        ("u1", "b", "purchase", 6.0, None),
        ("u1", "b", "purchase", 7.0, None),
        ("u2", "b", "purchase", 8.0, None),
    ]

    assert repeat_rates(frame(rows)) == (pytest.approx(2 / 5), pytest.approx(1 / 3))


def test_no_positive_interaction_means_no_repeats() -> None:
    assert repeat_rates(frame([("u1", "a", "view", 1.0, None)])) == (0.0, 0.0)
    assert recommend_policy(frame([]))["rebuy"] is False
