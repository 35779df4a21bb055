"""Fitting the sequential model on small synthetic sequences."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from models.sequence import contributions, sequence_scores
from offline.sequential import (
    Sequences,
    SequentialParams,
    fit_sequential,
    sequences,
    transition_gram,
)

N = 15
ITEMS = np.array([f"item-{i:02d}" for i in range(N)])
PARAMS = SequentialParams(steps=4, decay=0.7, l2=5.0, item_l2=20.0)


def chain_events(users: int = 60, length: int = 8, seed: int = 0) -> pl.DataFrame:
    """Each user walks the catalogue in order from a random start: item i is followed by i + 1."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(users):
        start = int(rng.integers(0, N - length + 1))
        for step in range(length):
            item = ITEMS[start + step]
            rows.append((f"e{user}-{step}", f"u{user:03d}", item, "rating", 100.0 * step, 4.0))
    schema = ["event_id", "user_id", "item_id", "type", "timestamp", "value"]
    return pl.DataFrame(rows, schema=schema, orient="row").sort(
        ["user_id", "timestamp", "event_id"]
    )


def test_next_item_of_a_chain_ranks_first() -> None:
    model = fit_sequential(chain_events(), ITEMS, PARAMS)
    for i in range(N - 1):
        scores = sequence_scores(model, np.array([i]))
        scores[i] = -np.inf
        assert int(np.argmax(scores)) == i + 1, i
    for i in range(2, N - 1):
        scores = sequence_scores(model, np.array([i, i - 1, i - 2]))
        scores[[i, i - 1, i - 2]] = -np.inf
        assert int(np.argmax(scores)) == i + 1, i


def test_the_newest_item_explains_the_next() -> None:
    model = fit_sequential(chain_events(), ITEMS, PARAMS)
    recent = np.array([9, 8, 7, 6])
    parts = contributions(model, recent, 10)
    assert int(np.argmax(parts)) == 0
    assert parts.sum() == pytest.approx(sequence_scores(model, recent)[10], rel=1e-6)


def test_dense_for_small_catalogues_sparse_past_the_limit() -> None:
    events = chain_events()
    dense = fit_sequential(events, ITEMS, PARAMS)
    sparse = fit_sequential(events, ITEMS, replace(PARAMS, dense_items=5, top_n=6))
    whole = fit_sequential(events, ITEMS, replace(PARAMS, dense_items=5, top_n=N))
    assert isinstance(dense.transition, np.ndarray) and dense.transition.dtype == np.float32
    assert isinstance(sparse.transition, sp.csr_matrix)
    assert isinstance(sparse.item_item, sp.csr_matrix)
    assert sparse.transition.getnnz(axis=1).max() <= 6
    for recent in ([3], [7, 6, 5], [12, 11], [1, 0]):
        history = np.array(recent)
        expected = sequence_scores(dense, history)
        np.testing.assert_allclose(sequence_scores(whole, history), expected, rtol=1e-6)
        truncated = sequence_scores(sparse, history)
        expected[history], truncated[history] = -np.inf, -np.inf
        assert int(np.argmax(truncated)) == int(np.argmax(expected)) == recent[0] + 1


def test_only_the_most_frequent_items_are_solved() -> None:
    events = chain_events()
    counts = events["item_id"].value_counts().sort(["count", "item_id"], descending=[True, False])
    model = fit_sequential(events, ITEMS, replace(PARAMS, max_items=5))
    assert isinstance(model.transition, np.ndarray)
    solved = np.flatnonzero(np.abs(model.transition).sum(axis=1) > 0)
    frequent = np.searchsorted(ITEMS, counts["item_id"].to_list()[:5])
    assert set(solved.tolist()) <= set(frequent.tolist())


def test_unknown_items_and_empty_events() -> None:
    events = chain_events()
    model = fit_sequential(events, ITEMS[:10], PARAMS)
    assert model.transition.shape == (10, 10)
    assert int(np.argmax(sequence_scores(model, np.array([4])))) == 5
    empty = fit_sequential(events.clear(), ITEMS, PARAMS)
    assert not sequence_scores(empty, np.array([1, 2])).any()
    single = fit_sequential(events.head(1), ITEMS, PARAMS)
    assert not sequence_scores(single, np.array([1, 2])).any()


def test_low_ratings_can_be_left_out() -> None:
    events = chain_events().with_columns(
        value=pl.when(pl.col("item_id") == ITEMS[5]).then(1.0).otherwise(4.0)
    )
    seq = sequences(events, ITEMS, replace(PARAMS, min_rating=3.0))
    assert 5 not in seq.kept.tolist()
    assert 5 in sequences(events, ITEMS, PARAMS).kept.tolist()


def test_gram_matches_the_explicit_matrices() -> None:
    rng = np.random.default_rng(1)
    n, k = 400, 9
    users = np.sort(rng.integers(0, 12, n))
    columns = rng.integers(-1, k, n)
    params = SequentialParams(steps=5, decay=0.6, compress=False)
    gram, cross = transition_gram(Sequences(users, columns, np.arange(k)), params)
    weights = params.position_weights()
    past, target = np.zeros((n, k)), np.zeros((n, k))
    for t in np.flatnonzero(columns >= 0):
        target[t, columns[t]] = 1.0
        for lag in range(1, 6):
            s = t - lag
            if s >= 0 and users[s] == users[t] and columns[s] >= 0:
                past[t, columns[s]] += weights[lag - 1]
    np.testing.assert_allclose(gram, past.T @ past, atol=1e-9)
    np.testing.assert_allclose(cross, past.T @ target, atol=1e-9)


def test_repeats_of_the_same_item_in_a_row_count_once() -> None:
    events = chain_events()
    doubled = pl.concat([events, events.with_columns(event_id=pl.col("event_id") + "-again")])
    doubled = doubled.sort(["user_id", "timestamp", "event_id"])
    once = sequences(events, ITEMS, PARAMS)
    twice = sequences(doubled, ITEMS, PARAMS)
    np.testing.assert_array_equal(once.columns, twice.columns)
    np.testing.assert_array_equal(once.users, twice.users)


def test_events_out_of_order_are_sorted_by_user_and_time() -> None:
    events = chain_events()
    shuffled = events.sample(fraction=1.0, shuffle=True, seed=4)
    np.testing.assert_array_equal(
        sequences(shuffled, ITEMS, PARAMS).columns, sequences(events, ITEMS, PARAMS).columns
    )


@pytest.mark.parametrize(
    "changes", [{"steps": 0}, {"decay": 0.0}, {"l2": 0.0}, {"top_n": 0}, {"item_window": -1}]
)
def test_invalid_parameters_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        replace(PARAMS, **changes)
