"""Per-user z-scores equal numpy's mean and standard deviation bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from models.feature_stats import standardised


@pytest.mark.parametrize("seed", range(40))
def test_standardised_uses_numpy_mean_and_std(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=int(rng.integers(1, 400))) * 10.0 ** int(rng.integers(-5, 5))
    if seed % 3 == 0:
        values[rng.random(len(values)) < 0.5] = -1.0
    if seed % 7 == 0:
        values[:] = 3.0
    reference = (None, 50, 10)[seed % 3]
    head = values if reference is None else values[:reference]
    spread = head.std()
    expected = (values - head.mean()) / spread if spread > 0 else np.zeros(len(values))
    assert standardised(values, reference).tobytes() == expected.tobytes()
