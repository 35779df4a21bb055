"""What a bundle makes of one user at one moment, computed once per request and read by every
step: the folded ALS vector, the EASE scores over the whole history and the sequence scores
over the newest items."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.bundle import EaseScores, ModelBundle, ease_scores, rows_of, user_vector
from models.sequence import SequenceModel, contributions_to, sequence_scores
from models.types import UserView

SEQUENCE_WINDOW = 50
"""Newest history events the sequence model reads (the user table keeps 50)."""


@dataclass(frozen=True)
class SequenceScores:
    """Every item's score as the user's next item, and the item rows it read, newest first."""

    scores: np.ndarray
    recent: np.ndarray


@dataclass(frozen=True)
class UserFold:
    """The user's folded vector, EASE scores and sequence scores under one bundle (None where
    the bundle or the history gives none)."""

    vector: np.ndarray | None = None
    ease: EaseScores | None = None
    sequence: SequenceScores | None = None


def fold_user(bundle: ModelBundle | None, user: UserView, now: float) -> UserFold:
    """The user's vector, EASE scores and sequence scores under `bundle` (empty without one)."""
    if bundle is None:
        return UserFold()
    return UserFold(
        user_vector(bundle, user, now),
        ease_scores(bundle, user, now),
        sequence_of(bundle, user),
    )


def newest_rows(bundle: ModelBundle, user: UserView, limit: int = SEQUENCE_WINDOW) -> np.ndarray:
    """Bundle rows of the user's newest history events, newest first (-1: unknown item)."""
    newest_first = reversed(user.history)  # oldest first, ties in arrival order
    ordered = sorted(newest_first, key=lambda event: event.timestamp, reverse=True)
    return rows_of(bundle.item_index, [event.item_id for event in ordered[:limit]])


def sequence_of(bundle: ModelBundle, user: UserView) -> SequenceScores | None:
    """The user's sequence scores (None without a sequence model or known recent items)."""
    model = bundle.sequence
    if model is None:
        return None
    recent = newest_rows(bundle, user)
    if not (recent >= 0).any():
        return None
    scores = sequence_scores(model, recent)
    scores.flags.writeable = False
    return SequenceScores(scores, recent)


def sequence_anchor(
    bundle: ModelBundle, found: SequenceScores, item_row: int, barred: frozenset[str]
) -> str | None:
    """The recent item that adds most to `item_row`'s sequence score; None when none adds or
    when that item is `barred` (a reason must not name it, nor hide behind a lesser one)."""
    return sequence_anchors(bundle, found, np.array([item_row]), barred)[0]


def sequence_anchors(
    bundle: ModelBundle, found: SequenceScores, item_rows: np.ndarray, barred: frozenset[str]
) -> list[str | None]:
    """`sequence_anchor` of each of `item_rows`, from one product over the recent items (an
    item met more than once adds up its contributions, in the order met)."""
    model: SequenceModel | None = bundle.sequence
    anchors: list[str | None] = [None] * len(item_rows)
    known = np.flatnonzero(found.recent >= 0)
    if model is None or not len(known):
        return anchors
    added = contributions_to(model, found.recent, item_rows)[known]
    slot: dict[int, int] = {}
    group = [slot.setdefault(row, len(slot)) for row in found.recent[known].tolist()]
    if len(slot) == len(group):
        summed = added + 0.0  # as added into zeros
    else:
        summed = np.zeros((len(slot), len(item_rows)))
        np.add.at(summed, group, added)
    best = np.argmax(summed, axis=0)
    met, names = list(slot), bundle.item_names
    values = summed[best, np.arange(len(item_rows))].tolist()
    for column, (position, value) in enumerate(zip(best.tolist(), values, strict=True)):
        name = names[met[position]]
        anchors[column] = name if value > 0 and name not in barred else None
    return anchors
