"""Tallies per experiment variant and their statistics."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from tables.experiments import (
    VariantTally,
    is_new_user,
    mark_user_seen,
    tally_event,
    tally_impression,
    two_proportion_p_value,
    user_seen_key,
    variant_metrics,
)
from tests.unit.tables.factories import T0


def test_impressions_and_events_are_tallied_by_kind() -> None:
    tally = tally_impression(None, 10, new_user=True)
    tally = tally_impression(tally, 5, new_user=False)
    for event_type in ("click", "click", "purchase", "add_to_cart", "view", "rating"):
        tally = tally_event(tally, event_type)

    assert tally == VariantTally(impressions=15, requests=2, clicks=2, conversions=2, users=1)


def test_first_seen_entries_count_each_user_once() -> None:
    seen: dict[str, float] = {}
    tally = None
    for user_id, timestamp in [("u1", T0), ("u2", T0 + 1), ("u1", T0 + 2), ("u1", T0 - 3)]:
        key = user_seen_key("exp", "B", user_id)
        previous = seen.get(key)
        tally = tally_impression(tally, 10, new_user=is_new_user(previous))
        seen[key] = mark_user_seen(previous, timestamp)

    assert tally is not None
    assert tally.users == 2
    assert seen[user_seen_key("exp", "B", "u1")] == T0 - 3
    assert user_seen_key("exp", "A", "u1") != user_seen_key("exp", "B", "u1")


def pearson_chi_square(table: list[list[int]]) -> float:
    total = sum(map(sum, table))
    rows = [sum(row) for row in table]
    columns = [sum(column) for column in zip(*table, strict=True)]
    statistic = 0.0
    for r in range(2):
        for c in range(2):
            expected = rows[r] * columns[c] / total
            statistic += (table[r][c] - expected) ** 2 / expected
    return statistic


def test_p_value_matches_the_chi_square_test_of_the_same_table() -> None:
    statistic = pearson_chi_square([[100, 900], [130, 870]])
    expected = 2 * (1 - NormalDist().cdf(math.sqrt(statistic)))

    assert two_proportion_p_value(100, 1000, 130, 1000) == pytest.approx(expected, rel=1e-9)
    assert two_proportion_p_value(100, 1000, 130, 1000) == pytest.approx(0.0355, abs=1e-4)


def test_p_value_is_undefined_without_trials_or_variance() -> None:
    assert two_proportion_p_value(0, 0, 3, 10) is None
    assert two_proportion_p_value(0, 10, 0, 10) is None


def test_metrics_give_rates_lift_and_p_value_against_control() -> None:
    tallies = {
        "control": VariantTally(impressions=1000, requests=100, clicks=100, conversions=10),
        "B": VariantTally(impressions=1000, requests=100, clicks=130, conversions=10),
    }

    metrics = variant_metrics(tallies)

    assert metrics["B"].ctr == pytest.approx(0.13)
    assert metrics["B"].ctr_lift == pytest.approx(0.3)
    assert metrics["B"].ctr_p_value == pytest.approx(0.0355, abs=1e-4)
    assert metrics["B"].conversion_rate == pytest.approx(0.1)
    assert metrics["B"].conversion_lift == pytest.approx(0.0)
    assert metrics["B"].conversion_p_value == pytest.approx(1.0)
    assert metrics["control"].ctr_lift is None
    assert metrics["control"].to_json()["ctr"] == pytest.approx(0.1)


def test_first_variant_is_the_baseline_when_no_control_is_named() -> None:
    tallies = {"A": VariantTally(impressions=10, clicks=1), "B": VariantTally(impressions=10)}

    metrics = variant_metrics(tallies)

    assert metrics["A"].ctr_lift is None
    assert metrics["B"].ctr_lift == pytest.approx(-1.0)
    assert variant_metrics({}) == {}
