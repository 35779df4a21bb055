"""One contract for every retriever and every ranker, on a checkerboard whose answer is known.

Users of block b interact with every item of block b and with nothing else. Whatever the
implementation, a retriever asked with a user's vector must return that user's block first,
and asked with an item, the other items of its block; a ranker given candidates of both blocks
must put the user's block first.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from models.features import COLUMN, FEATURE_NAMES
from models.rankers import BaselineRanker, Ranker, train_catboost
from models.retrieval import Retriever, build_annoy, make_retriever

BLOCKS, USERS_PER_BLOCK, ITEMS_PER_BLOCK, FACTORS = 3, 8, 6, 4


def checkerboard() -> np.ndarray:
    """users x items: 1 where the user's block is the item's block."""
    users = np.repeat(np.arange(BLOCKS), USERS_PER_BLOCK)
    items = np.repeat(np.arange(BLOCKS), ITEMS_PER_BLOCK)
    return (users[:, None] == items[None, :]).astype(np.float32)


def factors() -> tuple[np.ndarray, np.ndarray]:
    """User and item factors of the checkerboard by truncated SVD (exact: it has rank 3)."""
    u, s, vt = np.linalg.svd(checkerboard(), full_matrices=False)
    root = np.sqrt(s[:FACTORS])
    return (u[:, :FACTORS] * root).astype(np.float32), (vt[:FACTORS].T * root).astype(np.float32)


def block_of_item(item: int) -> int:
    return item // ITEMS_PER_BLOCK


RETRIEVERS: dict[str, Callable[[np.ndarray], Retriever]] = {
    "exact": lambda vectors: make_retriever(vectors, "exact"),
    "annoy dot": lambda vectors: build_annoy(vectors, "dot", trees=10),
    "annoy angular": lambda vectors: build_annoy(vectors, "angular", trees=10),
}


@pytest.mark.parametrize("kind", sorted(RETRIEVERS))
def test_a_user_s_vector_retrieves_the_user_s_block_first(kind: str) -> None:
    users, items = factors()
    retriever = RETRIEVERS[kind](items)
    for user in range(0, BLOCKS * USERS_PER_BLOCK, USERS_PER_BLOCK // 2):
        rows, _ = retriever.by_vector(users[user], ITEMS_PER_BLOCK)
        assert {block_of_item(int(row)) for row in rows} == {user // USERS_PER_BLOCK}
        assert len(rows) == ITEMS_PER_BLOCK


@pytest.mark.parametrize("kind", sorted(RETRIEVERS))
def test_an_item_s_neighbours_are_the_rest_of_its_block(kind: str) -> None:
    _, items = factors()
    retriever = RETRIEVERS[kind](items)
    for item in range(0, BLOCKS * ITEMS_PER_BLOCK, 5):
        rows, _ = retriever.by_item(item, ITEMS_PER_BLOCK - 1)
        assert item not in rows.tolist()
        assert {block_of_item(int(row)) for row in rows} == {block_of_item(item)}


def candidate_rows(user: int) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of every item for one user: the ALS score column from the checkerboard
    factors, popularity equal everywhere; labels 1 for the user's block."""
    users, items = factors()
    rows = np.zeros((BLOCKS * ITEMS_PER_BLOCK, len(FEATURE_NAMES)))
    rows[:, COLUMN["score_als"]] = items @ users[user]
    rows[:, COLUMN["als_dot"]] = items @ users[user]
    labels = (np.arange(len(rows)) // ITEMS_PER_BLOCK == user // USERS_PER_BLOCK).astype(float)
    return rows, labels


def trained_catboost() -> Ranker:
    blocks, grades, groups = [], [], []
    for group, user in enumerate(range(BLOCKS * USERS_PER_BLOCK)):
        rows, labels = candidate_rows(user)
        blocks.append(rows)
        grades.append(labels)
        groups.append(np.full(len(rows), group))
    return train_catboost(
        np.vstack(blocks), np.concatenate(grades), np.concatenate(groups), iterations=30, threads=1
    )


RANKERS: dict[str, Callable[[], Ranker]] = {
    "baseline": lambda: BaselineRanker(FEATURE_NAMES),
    "catboost": trained_catboost,
}


@pytest.mark.parametrize("kind", sorted(RANKERS))
def test_a_ranker_puts_the_user_s_block_first(kind: str) -> None:
    ranker = RANKERS[kind]()
    for user in range(BLOCKS * USERS_PER_BLOCK):
        rows, labels = candidate_rows(user)
        order = np.argsort(-ranker.score(rows), kind="stable")
        assert labels[order[:ITEMS_PER_BLOCK]].all()


@pytest.mark.parametrize("kind", sorted(RANKERS))
def test_a_ranker_scores_no_rows_as_nothing(kind: str) -> None:
    ranker = RANKERS[kind]()
    assert len(ranker.score(np.empty((0, len(FEATURE_NAMES))))) == 0
