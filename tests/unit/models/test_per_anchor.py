"""Per-anchor sources named at once give the lists they gave anchor by anchor."""

from __future__ import annotations

import numpy as np
import pytest

from models.fold import UserFold
from models.sources import (
    CandidateConfig,
    SourceContext,
    _per_anchor,
    _per_anchor_rows,
)
from models.types import UserView

ROWS = 40


@pytest.mark.parametrize("seed", range(20))
def test_per_anchor_rows_equal_the_anchor_at_a_time_lists(seed: int) -> None:
    rng = np.random.default_rng(seed)
    names = np.array([f"c{n}" for n in range(ROWS)], dtype=object)
    index = {str(name): n for n, name in enumerate(names.tolist())}
    item_rows = rng.integers(-1, 100, ROWS) if seed % 2 else None
    table = rng.integers(0, ROWS, (ROWS, 12))
    values = rng.random((ROWS, 12)).astype(np.float32)

    def search(row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        return table[row, :k], values[row, :k]

    def neighbours(anchor: str, k: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        row = index.get(anchor)
        if row is None:
            return [], np.empty(0), np.empty(0, dtype=np.int64)
        rows, scores = search(row, k)
        return names[rows].tolist(), scores, rows if item_rows is None else item_rows[rows]

    recent = [f"c{n}" for n in rng.integers(0, ROWS + 5, int(rng.integers(0, 6)))]
    ctx = SourceContext(
        None, UserView("u"), lambda item: None, CandidateConfig(), 0.0, recent, UserFold()
    )
    quota = int(rng.integers(1, 40))
    expected = _per_anchor(ctx, quota, neighbours, "content")
    found = _per_anchor_rows(ctx, quota, (index, names, search), "content", item_rows)
    assert found.ids == expected.ids
    assert found.anchors == expected.anchors
    assert found.sources == expected.sources
    np.testing.assert_array_equal(found.scores, expected.scores)
    np.testing.assert_array_equal(found.rows, expected.rows)
