"""Sequence scores: position-weighted transition rows plus the item-item window, explanations
that add up to the score, and the arrays round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from models.sequence import SequenceModel, contributions, from_arrays, sequence_scores, to_arrays

N = 12


def chain_model(dense: bool = True, item_item: bool = True) -> SequenceModel:
    """Item i is followed by i + 1 (weight 1) and, more weakly, by i + 2."""
    transition = np.zeros((N, N), dtype=np.float32)
    for i in range(N - 1):
        transition[i, i + 1] = 1.0
    for i in range(N - 2):
        transition[i, i + 2] = 0.3
    rng = np.random.default_rng(3)
    similar = (rng.random((N, N)) * 0.1).astype(np.float32)
    np.fill_diagonal(similar, 0.0)
    weights = np.array([1.0, 0.5, 0.25], dtype=np.float32)
    if not dense:
        return SequenceModel(
            sp.csr_matrix(transition),
            weights,
            sp.csr_matrix(similar) if item_item else None,
            0.5 if item_item else 0.0,
            4 if item_item else 0,
        )
    return SequenceModel(
        transition,
        weights,
        similar if item_item else None,
        0.5 if item_item else 0.0,
        4 if item_item else 0,
    )


def test_next_item_ranks_first() -> None:
    model = chain_model(item_item=False)
    scores = sequence_scores(model, np.array([4, 3]))
    assert scores.dtype == np.float64
    assert int(np.argmax(scores)) == 5


def test_positions_weigh_the_rows() -> None:
    model = chain_model(item_item=False)
    scores = sequence_scores(model, np.array([7, 2, 0]))
    expected = model.transition[7] * 1.0 + model.transition[2] * 0.5 + model.transition[0] * 0.25
    np.testing.assert_allclose(scores, expected)


def test_item_item_window_adds_scaled_rows() -> None:
    model = chain_model()
    recent = np.array([1, 2, 3, 4, 5, 6])
    alone = sequence_scores(chain_model(item_item=False), recent)
    assert model.item_item is not None
    window = model.item_item[recent[:4]].astype(np.float64).sum(axis=0)
    np.testing.assert_allclose(sequence_scores(model, recent), alone + 0.5 * window, rtol=1e-6)


def test_empty_and_unknown_history_score_zero() -> None:
    model = chain_model()
    assert not sequence_scores(model, np.array([], dtype=np.int64)).any()
    assert not sequence_scores(model, np.array([-1, N, N + 5])).any()
    assert sequence_scores(model, np.array([], dtype=np.int64)).shape == (N,)


def test_unknown_rows_keep_their_position() -> None:
    model = chain_model(item_item=False)
    scores = sequence_scores(model, np.array([-1, 3]))
    np.testing.assert_allclose(scores, 0.5 * model.transition[3])


@pytest.mark.parametrize("dense", [True, False])
def test_contributions_sum_to_the_score(dense: bool) -> None:
    model = chain_model(dense)
    recent = np.array([6, -1, 5, 2, 6, 9, 1])
    scores = sequence_scores(model, recent)
    for item in range(N):
        parts = contributions(model, recent, item)
        assert parts.shape == recent.shape
        assert parts[1] == 0.0
        assert parts.sum() == pytest.approx(scores[item], rel=1e-6, abs=1e-9)
    assert int(np.argmax(contributions(model, recent, 7))) == 0
    assert not contributions(model, recent, N).any()


def test_sparse_and_dense_score_alike() -> None:
    recent = np.array([3, 8, 0, 11])
    dense = sequence_scores(chain_model(True), recent)
    sparse = sequence_scores(chain_model(False), recent)
    np.testing.assert_allclose(dense, sparse, rtol=1e-6)


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("item_item", [True, False])
def test_arrays_round_trip(dense: bool, item_item: bool) -> None:
    model = chain_model(dense, item_item)
    arrays = to_arrays(model)
    assert all(key.startswith("sequence_") for key in arrays)
    back = from_arrays(arrays)
    assert back is not None
    assert back.item_weight == model.item_weight and back.item_window == model.item_window
    np.testing.assert_array_equal(back.position_weights, model.position_weights)
    for mine, theirs in ((model.transition, back.transition), (model.item_item, back.item_item)):
        if mine is None:
            assert theirs is None
            continue
        assert type(mine) is type(theirs)
        left = mine.toarray() if sp.issparse(mine) else mine
        right = theirs.toarray() if sp.issparse(theirs) else theirs
        np.testing.assert_array_equal(left, right)
        assert left.dtype == right.dtype
    recent = np.array([2, 5, 9])
    np.testing.assert_array_equal(sequence_scores(back, recent), sequence_scores(model, recent))


def test_arrays_round_trip_through_npz(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    model = chain_model(False)
    np.savez(path, other=np.arange(3), **to_arrays(model))
    with np.load(path) as saved:
        back = from_arrays(saved)
    assert back is not None
    recent = np.array([1, 4])
    np.testing.assert_array_equal(sequence_scores(back, recent), sequence_scores(model, recent))


def test_no_sequence_arrays_give_none() -> None:
    assert from_arrays({"other": np.arange(3)}) is None


def test_nbytes_counts_the_matrices() -> None:
    model = chain_model()
    assert model.nbytes == 2 * N * N * 4 + 3 * 4
    assert chain_model(False).nbytes > 0
