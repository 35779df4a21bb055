"""Training choices that decide quality: EASE neighbours, ALS order, warm starts, holdouts."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.bundle import user_vector
from offline.als import AlsParams, neighbour_width, similar_items, train_als, warm_start
from offline.etl import EtlParams, Interactions, build_interactions
from offline.ranker import holdout
from offline.synthetic import blocks
from offline.train import TrainParams, fit

SMALL = TrainParams(factors=8, iterations=8, retriever="exact", ranker=False)


@pytest.fixture(scope="module")
def data() -> Interactions:
    """Interactions of three blocks of users, each block sharing its own items."""
    events, _ = blocks(groups=3, users_per_group=30, items_per_group=15)
    return build_interactions(events.lazy(), EtlParams())


def test_ease_neighbours_of_an_item_come_from_its_own_block(data: Interactions) -> None:
    rows, scores = similar_items(data.matrix, top=5, l2=10.0)
    names = data.item_ids
    for item in range(len(names)):
        found = rows[item][rows[item] >= 0]
        assert len(found) > 0
        assert all(names[n].split("-")[0] == names[item].split("-")[0] for n in found)
        assert np.all(np.diff(scores[item][: len(found)]) <= 0)


def test_ease_weights_keep_the_strongest_negative_ones_after_the_positive_ones(
    data: Interactions,
) -> None:
    rows, scores = similar_items(data.matrix, top=44, l2=10.0)
    names = data.item_ids
    for item in range(len(names)):
        kept = rows[item] >= 0
        assert np.all(np.diff(scores[item][kept]) <= 0)
        block = names[item].split("-")[0]
        for other, weight in zip(rows[item][kept], scores[item][kept], strict=True):
            if names[other].split("-")[0] != block:
                assert weight < 0
    assert (scores < 0).any()


def test_large_catalogs_keep_fewer_ease_weights_per_item() -> None:
    assert neighbour_width(3_700, 1000) == 1000
    assert neighbour_width(1_000_000, 1000) == 40
    assert neighbour_width(10**9, 1000) == 1


def test_warm_start_keeps_the_factors_of_ids_both_fits_share() -> None:
    users, items = np.array(["u1", "u2"]), np.array(["i1", "i2"])
    old = (np.ones((2, 3), np.float32), np.full((2, 3), 2.0, np.float32))
    user_start, item_start = warm_start(
        users, items, old, np.array(["u0", "u2"]), np.array(["i2", "i3"])
    )
    assert np.all(user_start[1] == 1.0) and np.all(user_start[0] < 0.01)
    assert np.all(item_start[0] == 2.0) and np.all(item_start[1] < 0.01)
    events, _ = blocks(groups=2, users_per_group=10, items_per_group=10)
    data = build_interactions(events.lazy(), EtlParams())
    params = AlsParams(factors=4, iterations=3)
    fitted = train_als(data.matrix, params)
    continued = train_als(data.matrix, AlsParams(factors=4, iterations=1), start=fitted)
    fresh = train_als(data.matrix, AlsParams(factors=4, iterations=1))
    distance = np.abs(continued[1] - fitted[1]).mean()
    assert distance < np.abs(fresh[1] - fitted[1]).mean()


def test_als_only_recommendations_follow_the_exact_als_score() -> None:
    events, items = blocks(groups=2, users_per_group=20, items_per_group=15)
    fitted = fit(events, items, SMALL, progress=False)
    bundle = fitted.bundle
    now = float(events["timestamp"].max()) + 1.0  # type: ignore[arg-type]
    top = fitted.recommend(["u0-3", "u1-7"], 6, ranker=False, now=now)
    for user in ("u0-3", "u1-7"):
        seen = set(events.filter(pl.col("user_id") == user)["item_id"].to_list())
        scores = bundle.item_factors @ bundle.user_factors[bundle.user_index[user]]
        order = [bundle.item_names[i] for i in np.argsort(-scores, kind="stable")]
        assert top[user] == [item for item in order if item not in seen][:6]


def test_known_users_vector_ignores_history_the_factors_already_hold() -> None:
    events, items = blocks(groups=2, users_per_group=20, items_per_group=15)
    fitted = fit(events, items, SMALL, progress=False)
    now = float(events["timestamp"].max()) + 1.0  # type: ignore[arg-type]
    view = fitted.views(["u0-3"], now)["u0-3"]
    assert len(view.history) > 0
    trained = fitted.bundle.user_factors[fitted.bundle.user_index["u0-3"]]
    vector = user_vector(fitted.bundle, view, now)
    assert vector is not None and np.array_equal(vector, trained)


def test_random_holdout_keeps_label_events_out_of_the_history() -> None:
    events, _ = blocks(groups=2, users_per_group=20, items_per_group=15)
    split = holdout(events, "random", 0.2, seed=1)
    assert split.history.height + split.labels.height == events.height
    assert not set(split.history["event_id"]) & set(split.labels["event_id"])
    assert 0.1 < split.labels.height / events.height < 0.3
    assert split.at > float(split.history["timestamp"].max())  # type: ignore[arg-type]
    timed = holdout(events, "time", 0.2, seed=1)
    assert float(timed.history["timestamp"].max()) < timed.at  # type: ignore[arg-type]
    assert float(timed.labels["timestamp"].min()) >= timed.at  # type: ignore[arg-type]
