"""Next-item scores from a user's ordered recent items: position-weighted transition rows plus an
item-item term over a longer window, both item x item matrices (dense or sparse rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp

Matrix: TypeAlias = sp.csr_matrix | np.ndarray
PREFIX = "sequence_"


@dataclass(frozen=True)
class SequenceModel:
    """Transition weights (row = an earlier item, column = the item that follows), their weight
    per position back from the newest item, and an optional item-item term over the newest
    `item_window` items scaled by `item_weight`."""

    transition: Matrix
    position_weights: np.ndarray
    item_item: Matrix | None = None
    item_weight: float = 0.0
    item_window: int = 0

    @property
    def n_items(self) -> int:
        """Items the model scores (rows and columns of its matrices)."""
        return int(self.transition.shape[1])

    @property
    def nbytes(self) -> int:
        """Bytes held by the matrices and position weights."""
        return _bytes(self.transition) + self.position_weights.nbytes + _bytes(self.item_item)


def _bytes(matrix: Matrix | None) -> int:
    """Bytes of a dense or CSR matrix's arrays."""
    if matrix is None:
        return 0
    if isinstance(matrix, np.ndarray):
        return int(matrix.nbytes)
    return int(matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes)


def _terms(model: SequenceModel, recent_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, positions) of the transition term, then of the item-item term; unknown rows (-1 or
    outside the model) hold their position but take part in neither."""
    rows = np.asarray(recent_rows, dtype=np.int64).ravel()
    positions = np.arange(len(rows))
    known = (rows >= 0) & (rows < model.n_items)
    steps = len(model.position_weights)
    moving = known & (positions < steps)
    window = model.item_window if model.item_item is not None else 0
    lasting = known & (positions < window)
    return (
        np.stack([rows[moving], positions[moving]]),
        np.stack([rows[lasting], positions[lasting]]),
    )


def _weighted_rows(matrix: Matrix, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum of `matrix` rows times `weights`, as float64."""
    if not len(rows):
        return np.zeros(matrix.shape[1])
    if isinstance(matrix, np.ndarray):
        return np.asarray(weights @ matrix[rows].astype(np.float64), dtype=np.float64)
    picked = matrix[rows]
    return np.asarray(picked.T @ weights, dtype=np.float64).ravel()


def sequence_scores(model: SequenceModel, recent_rows: np.ndarray) -> np.ndarray:
    """Score of every item as the next one after `recent_rows` (item rows, newest first;
    -1 or unknown rows keep their position and add nothing); zeros without known rows."""
    (moving, at), (lasting, _) = _terms(model, recent_rows)
    scores = _weighted_rows(model.transition, moving, model.position_weights[at].astype(float))
    if model.item_item is not None and len(lasting):
        weights = np.full(len(lasting), model.item_weight)
        scores += _weighted_rows(model.item_item, lasting, weights)
    return scores


def _cells(matrix: Matrix, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """matrix[rows][:, columns] as float64 (one row per entry of `rows`)."""
    if isinstance(matrix, np.ndarray):
        return np.asarray(matrix[np.ix_(rows, columns)], dtype=np.float64)
    return np.asarray(matrix[rows][:, columns].toarray(), dtype=np.float64)


def contributions(model: SequenceModel, recent_rows: np.ndarray, item_row: int) -> np.ndarray:
    """What each entry of `recent_rows` adds to `item_row`'s score (they sum to the score)."""
    return contributions_to(model, recent_rows, np.array([item_row]))[:, 0]


def contributions_to(
    model: SequenceModel, recent_rows: np.ndarray, item_rows: np.ndarray
) -> np.ndarray:
    """What each entry of `recent_rows` (rows) adds to each of `item_rows`' scores (columns);
    a column outside the model is all zeros."""
    rows = np.asarray(recent_rows, dtype=np.int64).ravel()
    items = np.asarray(item_rows, dtype=np.int64).ravel()
    result = np.zeros((len(rows), len(items)))
    inside = np.flatnonzero((items >= 0) & (items < model.n_items))
    if not len(inside):
        return result
    columns = items[inside]
    (moving, at), (lasting, later) = _terms(model, rows)
    added = np.zeros((len(rows), len(columns)))
    added[at] += model.position_weights[at][:, None] * _cells(model.transition, moving, columns)
    if model.item_item is not None:
        added[later] += model.item_weight * _cells(model.item_item, lasting, columns)
    result[:, inside] = added
    return result


def _matrix_arrays(name: str, matrix: Matrix) -> dict[str, np.ndarray]:
    """A dense matrix as one array, a CSR one as its data, indices, indptr and shape."""
    key = PREFIX + name
    if isinstance(matrix, np.ndarray):
        return {key: matrix}
    return {
        f"{key}_data": matrix.data,
        f"{key}_indices": matrix.indices,
        f"{key}_indptr": matrix.indptr,
        f"{key}_shape": np.asarray(matrix.shape, dtype=np.int64),
    }


def to_arrays(model: SequenceModel) -> dict[str, np.ndarray]:
    """The model as named arrays (keys prefixed `sequence_`), for an .npz."""
    arrays = _matrix_arrays("transition", model.transition)
    arrays[PREFIX + "position_weights"] = model.position_weights
    if model.item_item is not None:
        arrays.update(_matrix_arrays("item_item", model.item_item))
        arrays[PREFIX + "item_weight"] = np.asarray(model.item_weight, dtype=np.float64)
        arrays[PREFIX + "item_window"] = np.asarray(model.item_window, dtype=np.int64)
    return arrays


def _matrix_of(arrays: Mapping[str, np.ndarray], name: str) -> Matrix | None:
    """The matrix `_matrix_arrays` saved under `name`, None when absent."""
    key = PREFIX + name
    if key in arrays:
        return np.asarray(arrays[key])
    if f"{key}_data" not in arrays:
        return None
    shape = tuple(int(v) for v in arrays[f"{key}_shape"])
    parts = (arrays[f"{key}_data"], arrays[f"{key}_indices"], arrays[f"{key}_indptr"])
    return sp.csr_matrix(parts, shape=shape)


def from_arrays(arrays: Mapping[str, np.ndarray]) -> SequenceModel | None:
    """The model saved by `to_arrays`, or None when `arrays` hold none."""
    transition = _matrix_of(arrays, "transition")
    if transition is None:
        return None
    item_item = _matrix_of(arrays, "item_item")
    return SequenceModel(
        transition=transition,
        position_weights=np.asarray(arrays[PREFIX + "position_weights"]),
        item_item=item_item,
        item_weight=float(arrays[PREFIX + "item_weight"]) if item_item is not None else 0.0,
        item_window=int(arrays[PREFIX + "item_window"]) if item_item is not None else 0,
    )
