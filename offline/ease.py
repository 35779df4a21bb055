"""Dense item-item solves of the EASE neighbours and the sequence model, in float32 and in
memory bounded by a few copies of the item x item block: the Gram matrix built a block of
columns at a time, its ridge inverse by Cholesky in place, and each row's strongest weights
picked a block of rows at a time."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

BLOCK = 1024
"""Rows or columns handled at once by the blocked steps."""


def gram(binary: sp.spmatrix) -> np.ndarray:
    """XᵀX of a users x items matrix as dense float32, without its sparse product held whole."""
    columns = sp.csc_matrix(binary, dtype=np.float32)
    rows = columns.T.tocsr()
    k = columns.shape[1]
    result = np.empty((k, k), dtype=np.float32)
    for start in range(0, k, BLOCK):
        stop = min(start + BLOCK, k)
        result[:, start:stop] = (rows @ columns[:, start:stop]).toarray()
    return result


def _symmetrise(lower: np.ndarray) -> None:
    """Copy the lower triangle of a square matrix onto its upper one, in place."""
    k = len(lower)
    for start in range(0, k, BLOCK):
        stop = min(start + BLOCK, k)
        square = lower[start:stop, start:stop]
        square[:] = np.tril(square) + np.tril(square, -1).T
        lower[start:stop, stop:] = lower[stop:, start:stop].T


def inverse(matrix: np.ndarray, l2: float) -> np.ndarray:
    """(matrix + l2·I)⁻¹ of a symmetric matrix by Cholesky in its precision, overwriting it."""
    matrix[np.diag_indices_from(matrix)] += l2
    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (matrix,))
    factor, info = potrf(matrix, lower=True, overwrite_a=True)
    if info == 0:
        factor, info = potri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"the regularised Gram matrix is not positive ({info})")
    result: np.ndarray = factor
    _symmetrise(result)
    return result


def ease(binary: sp.spmatrix, l2: float) -> np.ndarray:
    """EASE weights (Steck 2019) of a binary users x items matrix, float32, zero diagonal:
    B[i, j] = -P[i, j] / P[j, j] with P = (XᵀX + l2·I)⁻¹."""
    weights = inverse(gram(binary), l2)
    weights /= -np.diag(weights).copy()
    weights[np.diag_indices_from(weights)] = 0.0
    return weights


def strongest(block: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(columns, values) of each row's `width` largest entries by magnitude, in no order."""
    n = len(block)
    columns = np.empty((n, width), dtype=np.int64)
    values = np.empty((n, width), dtype=block.dtype)
    for start in range(0, n, BLOCK):
        rows = block[start : start + BLOCK]
        best = np.argpartition(-np.abs(rows), width - 1, axis=1)[:, :width]
        columns[start : start + BLOCK] = best
        values[start : start + BLOCK] = np.take_along_axis(rows, best, axis=1)
    return columns, values
