"""Sequence anchors from one pass over the recent items equal the grouped definition they
replace, repeated recent items and ties included."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest

from models.bundle import ModelBundle
from models.fold import SequenceScores, sequence_anchors
from models.sequence import SequenceModel, contributions_to

ITEMS = 30


def _grouped(
    bundle: ModelBundle, found: SequenceScores, item_rows: np.ndarray, barred: frozenset[str]
) -> list[str | None]:
    """The anchors as np.unique grouping and np.add.at summed them."""
    model = bundle.sequence
    assert model is not None
    anchors: list[str | None] = [None] * len(item_rows)
    known = np.flatnonzero(found.recent >= 0)
    if not len(known):
        return anchors
    added = contributions_to(model, found.recent, item_rows)[known]
    distinct, group = np.unique(found.recent[known], return_inverse=True)
    met = np.argsort(np.unique(group, return_index=True)[1], kind="stable")
    first_met = np.empty(len(distinct), dtype=np.int64)
    first_met[met] = np.arange(len(distinct))
    summed = np.zeros((len(distinct), len(item_rows)))
    np.add.at(summed, first_met[group], added)
    best = np.argmax(summed, axis=0)
    order = distinct[met]
    for column, position in enumerate(best.tolist()):
        name = bundle.item_names[int(order[position])]
        anchors[column] = name if summed[position, column] > 0 and name not in barred else None
    return anchors


@pytest.mark.parametrize("seed", range(40))
def test_sequence_anchors_equal_the_grouped_sums(seed: int) -> None:
    rng = np.random.default_rng(seed)
    weights = rng.choice([0.0, 0.5, 1.0, -0.25], (ITEMS, ITEMS))  # ties and zeros on purpose
    model = SequenceModel(
        transition=weights.astype(np.float32),
        position_weights=np.array([1.0, 0.7, 0.49]),
        item_item=rng.choice([0.0, 1.0], (ITEMS, ITEMS)).astype(np.float32),
        item_weight=0.5,
        item_window=int(rng.integers(0, 8)),
    )
    names = [f"i{n}" for n in range(ITEMS)]
    bundle = cast(ModelBundle, SimpleNamespace(sequence=model, item_names=names))
    recent = rng.integers(-1, 8, int(rng.integers(1, 12)))  # few items: repeats are common
    found = SequenceScores(np.zeros(ITEMS), recent)
    items = rng.integers(-1, ITEMS + 2, 6)
    barred = frozenset(f"i{n}" for n in rng.integers(0, 8, 2)) if seed % 2 else frozenset()
    assert sequence_anchors(bundle, found, items, barred) == _grouped(bundle, found, items, barred)
