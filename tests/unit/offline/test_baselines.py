"""One contract suite for every scoring baseline, on block data whose right answer is known."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import sparse

from offline.baselines import (
    BASELINE_NAMES,
    Popularity,
    Recommender,
    TrainingData,
    top_k,
    training_data,
)
from offline.metrics import PAD
from offline.recommenders import make_recommender

GROUPS, USERS_PER_GROUP, ITEMS_PER_GROUP = 2, 12, 8


def _blocks() -> tuple[TrainingData, sparse.csr_matrix]:
    """Users of group g liked every item of block g but one (held out per user)."""
    rows: list[tuple[str, str, str, float, float | None]] = []
    for g in range(GROUPS):
        for u in range(USERS_PER_GROUP):
            held_out = u % ITEMS_PER_GROUP
            for i in range(ITEMS_PER_GROUP):
                if i != held_out:
                    rows.append((f"u{g}-{u}", f"i{g}-{i}", "click", float(len(rows)), None))
    train = pl.DataFrame(
        rows, schema=["user_id", "item_id", "type", "timestamp", "value"], orient="row"
    )
    users = sorted({r[0] for r in rows})
    items = sorted({r[1] for r in rows})
    data = training_data(train, users, items)
    return data, data.matrix


@pytest.fixture(scope="module")
def blocks() -> tuple[TrainingData, sparse.csr_matrix]:
    return _blocks()


_FITTED: dict[str, Recommender] = {}


def _fitted(name: str, data: TrainingData) -> Recommender:
    if name not in _FITTED:
        _FITTED[name] = make_recommender(name, seed=3)
        _FITTED[name].fit(data)
    return _FITTED[name]


def _group(name: str) -> str:
    return name.split("-")[0][1:]


@pytest.mark.parametrize("name", [n for n in BASELINE_NAMES if n != "pop"])
def test_personalised_baseline_recommends_the_held_out_item_of_the_users_block_first(
    name: str, blocks: tuple[TrainingData, sparse.csr_matrix]
) -> None:
    data, seen = blocks
    model = _fitted(name, data)
    users = np.arange(len(data.users), dtype=np.int64)
    top = model.recommend(users, 1, seen)
    for user, (item,) in zip(users, top, strict=True):
        user_id, item_id = data.users[user], data.items[item]
        held_out = int(user_id.split("-")[1]) % ITEMS_PER_GROUP
        assert item_id == f"i{_group(user_id)}-{held_out}"


@pytest.mark.parametrize("name", BASELINE_NAMES)
def test_baseline_never_recommends_an_excluded_item_and_pads_when_the_catalog_runs_out(
    name: str, blocks: tuple[TrainingData, sparse.csr_matrix]
) -> None:
    data, seen = blocks
    model = _fitted(name, data)
    users = np.arange(len(data.users), dtype=np.int64)
    ranked = model.recommend(users, len(data.items), seen)
    assert ranked.shape == (len(users), len(data.items))
    for user in users:
        listed = ranked[user][ranked[user] != PAD]
        assert set(listed.tolist()).isdisjoint(seen[user].indices.tolist())
        assert len(listed) == len(data.items) - seen[user].nnz
        assert len(set(listed.tolist())) == len(listed)


def test_popularity_ranks_items_by_number_of_users() -> None:
    train = pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "a", "b", "a"],
            "item_id": ["x", "x", "x", "y", "y", "z"],
            "timestamp": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    data = training_data(train, ["a", "b", "c", "d"], ["x", "y", "z"])
    model = Popularity()
    model.fit(data)
    nothing_seen = sparse.csr_matrix((4, 3), dtype=np.float32)
    assert model.recommend(np.array([3]), 3, nothing_seen).tolist() == [[0, 1, 2]]


def test_top_k_orders_best_first_and_turns_masked_scores_into_padding() -> None:
    scores = np.array([[0.1, 0.9, -np.inf, 0.5], [-np.inf, -np.inf, 1.0, -np.inf]], np.float32)
    assert top_k(scores, 3).tolist() == [[1, 3, 0], [2, PAD, PAD]]


def test_unknown_model_name_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="expected one of pop"):
        make_recommender("bpr")
