"""The merge over every list at once gives what the list-at-a-time merge gave, entry for entry."""

from __future__ import annotations

import numpy as np
import pytest

from models.candidates import CandidateSet, merge_lists
from models.merge import item_numbers
from models.source_list import SourceList
from models.sources import DEFAULT_SOURCE_WEIGHTS, SOURCES
from tests.unit.models.merge_reference import merge_lists_reference

ITEMS = 60


def _list(rng: np.random.Generator, source: str | None, rows: bool) -> SourceList:
    size = int(rng.integers(0, 40))
    picked = rng.integers(-3, ITEMS, size) if rows else rng.integers(0, ITEMS + 3, size)
    ids = [f"i{r}" if r >= 0 else f"new{-r}" for r in picked.tolist()]
    scores = (
        rng.choice([0.0, -0.5, 1.0, 2.5, np.nan], size) if rng.random() < 0.3 else rng.random(size)
    )
    anchors: list[str | None] = [
        rng.choice(["a", "b"]) if rng.random() < 0.5 else None for _ in ids
    ]
    at = np.where(picked < ITEMS, picked, -1) if rows else None
    if source is not None:
        return SourceList.of_source(source, ids, scores, anchors, at)
    labels = [str(rng.choice(SOURCES)) for _ in ids]
    return SourceList(ids, np.asarray(scores, dtype=np.float64), labels, anchors, at)


def _same(found: CandidateSet, expected: CandidateSet) -> None:
    assert found.ids == expected.ids
    assert found.sources == expected.sources
    assert found.anchors == expected.anchors
    np.testing.assert_array_equal(found.scores, expected.scores)
    np.testing.assert_array_equal(found.source_scores, expected.source_scores)
    if expected.rows is None:
        assert found.rows is None
    else:
        np.testing.assert_array_equal(found.rows, expected.rows)


@pytest.mark.parametrize("seed", range(60))
def test_merge_equals_the_list_at_a_time_merge(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = seed % 3 != 0
    sources: list[str | None] = list(rng.choice(SOURCES, int(rng.integers(1, 8)), replace=False))
    if seed % 5 == 0:
        sources.append(None)
    lists = [_list(rng, source, rows) for source in sources]
    index = {f"i{r}": r for r in range(ITEMS)} if rows and seed % 2 else None
    exclude = frozenset(f"i{r}" for r in rng.integers(0, ITEMS, int(rng.integers(0, 20))))
    if seed % 4 == 0:
        exclude |= {"new1", "new2"}
    weights = dict(DEFAULT_SOURCE_WEIGHTS, als=0.9) if seed % 7 else dict.fromkeys(SOURCES, 1.0)
    expected = merge_lists_reference(lists, exclude, weights, index)
    _same(merge_lists(lists, exclude, weights, index), expected)
    for limit in (0, 5, len(expected) + 1):
        _same(merge_lists(lists, exclude, weights, index, limit), expected.head(limit))


@pytest.mark.parametrize("seed", range(20))
def test_item_numbers_are_the_unique_inverse(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, int(rng.integers(1, 5000)), int(rng.integers(1, 400)))
    distinct, inverse = np.unique(keys, return_inverse=True)
    numbers, items = item_numbers(keys)
    assert items == len(distinct)
    np.testing.assert_array_equal(numbers, inverse)
