"""Similarity of each candidate to the user's history: EASE weights and content vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.bundle import EaseScores, EaseWeights, ModelBundle, rows_of, summed_rows
from models.candidates import recent_items
from models.types import UserView


def history_similarity(
    bundle: ModelBundle, user: UserView, item_rows: np.ndarray, whole: EaseScores | None
) -> np.ndarray:
    """Sum of the EASE weights from the distinct items of the user's recent view to each item
    (the `whole` history's scores when that history is the same items, as for a user the
    bundle holds no training items of)."""
    similarity = np.zeros(len(item_rows))
    if bundle.ease is None:
        return similarity
    history = np.unique(bundle.item_rows(event.item_id for event in user.history))
    if not len(history):
        return similarity
    same = whole is not None and np.array_equal(whole.history, history)
    totals = whole.scores if same and whole is not None else summed_rows(bundle.ease, history)
    known = item_rows >= 0
    similarity[known] = totals[item_rows[known]]
    return similarity


def content_similarity(
    bundle: ModelBundle, user: UserView, ids: Sequence[str], item_rows: np.ndarray
) -> np.ndarray:
    """Dot product of each item's content vector with the mean of the user's recent items'."""
    similarity = np.zeros(len(ids))
    recent = [bundle.content_index[i] for i in recent_items(user, 5) if i in bundle.content_index]
    if not recent:
        return similarity
    profile = bundle.content_vectors[recent].mean(axis=0)
    content_rows = np.where(item_rows >= 0, bundle.content_row_of_item[item_rows], -1)
    outside = np.flatnonzero(item_rows < 0)  # items the bundle lacks may still have content
    content_rows[outside] = rows_of(bundle.content_index, [ids[r] for r in outside.tolist()])
    known = content_rows >= 0
    similarity[known] = bundle.content_vectors[content_rows[known]] @ profile
    return similarity


def history_anchors(
    bundle: ModelBundle,
    user: UserView,
    item_ids: Sequence[str],
    found: EaseScores | None,
    disliked: frozenset[str] = frozenset(),
) -> list[str | None]:
    """For each item, the item of the user's history most linked to it: the largest EASE weight
    from a history item to it, else (no EASE weights) the closest ALS factors among the history
    items (`found`: the user's EASE scores). Never a `disliked` item; None where the bundle
    lacks the item or nothing in the history points to it."""
    anchors: list[str | None] = [None] * len(item_ids)
    rows = rows_of(bundle.item_index, item_ids)
    known = np.flatnonzero(rows >= 0)
    if not len(known):
        return anchors
    if bundle.ease is not None and found is not None:
        history = found.history
        links = _weights_between(bundle.ease, history, rows[known])
    else:
        history = np.unique(bundle.item_rows(event.item_id for event in user.history))
        links = bundle.item_factors[history] @ bundle.item_factors[rows[known]].T
    if not len(history):
        return anchors
    links = np.where(history[:, None] == rows[known][None, :], -np.inf, links)  # never itself
    if disliked:
        links[_among(history, bundle.item_rows(disliked))] = -np.inf
    best = np.argmax(links, axis=0)
    for column, position in enumerate(known.tolist()):
        if links[best[column], column] > 0:
            anchors[position] = bundle.item_names[int(history[best[column]])]
    return anchors


def _among(rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each of `rows` (sorted, distinct) is one of `wanted` (np.isin by bisection)."""
    found = np.zeros(len(rows), dtype=bool)
    if not len(rows) or not len(wanted):
        return found
    at = np.minimum(np.searchsorted(rows, wanted), len(rows) - 1)
    found[at[rows[at] == wanted]] = True
    return found


def _weights_between(matrix: EaseWeights, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Weights from each of `rows` (one row each) to each of `columns` (one column each)."""
    if isinstance(matrix, np.ndarray):
        return np.asarray(matrix[np.ix_(rows, columns)], dtype=np.float64)
    return np.asarray(matrix[rows][:, columns].toarray(), dtype=np.float64)
