"""The blocked float32 solves against their plain numpy definitions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from offline import ease


def random_binary(users: int, items: int, density: float, seed: int) -> sp.csr_matrix:
    """A random binary users x items matrix."""
    rng = np.random.default_rng(seed)
    return sp.csr_matrix((rng.random((users, items)) < density).astype(np.float32))


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks smaller than the matrices, so every blocked loop runs more than once."""
    monkeypatch.setattr(ease, "BLOCK", 7)


def test_gram_is_the_product_of_the_matrix_with_itself() -> None:
    binary = random_binary(300, 40, 0.2, seed=1)
    expected = (binary.T @ binary).toarray()
    assert np.array_equal(ease.gram(binary), expected)


def test_inverse_is_the_ridge_inverse_and_symmetric() -> None:
    binary = random_binary(300, 40, 0.2, seed=2)
    gram = (binary.T @ binary).toarray().astype(np.float64)
    expected = np.linalg.inv(gram + 5.0 * np.eye(40))
    found = ease.inverse(gram.copy(), 5.0)
    assert np.allclose(found, expected, rtol=1e-9, atol=1e-12)
    assert np.array_equal(found, found.T)


def test_ease_weights_follow_steck() -> None:
    binary = random_binary(500, 30, 0.15, seed=3)
    inverse = np.linalg.inv((binary.T @ binary).toarray() + 20.0 * np.eye(30))
    expected = -inverse / np.diag(inverse)
    np.fill_diagonal(expected, 0.0)
    found = ease.ease(binary, 20.0)
    assert found.dtype == np.float32
    assert np.allclose(found, expected, atol=1e-5)
    assert not np.diag(found).any()


def test_strongest_picks_each_rows_largest_magnitudes() -> None:
    block = np.random.default_rng(4).normal(size=(25, 18)).astype(np.float32)
    columns, values = ease.strongest(block, 5)
    for row in range(25):
        expected = set(np.argsort(-np.abs(block[row]))[:5].tolist())
        assert set(columns[row].tolist()) == expected
        assert np.array_equal(values[row], block[row, columns[row]])
